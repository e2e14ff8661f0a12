"""Sign in and sign up pages (log out is Django's own view). Both count attempts per client
address and per username (core.throttling) before any password is hashed: past the budget the
form comes back with a 429, `Retry-After` and a message saying how long to wait."""

from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import UserCreationForm
from django.forms import Form
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.models import User
from core.throttling import attempt_wait


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)


def _too_many(form: Form, wait: int, what: str) -> None:
    """Show only the throttle's message on a bound form, without validating it (validating a
    sign-in form hashes the password, which is what the throttle spares)."""
    form._errors = ErrorDict()
    form.cleaned_data = {}
    form.add_error(None, f"Too many {what} attempts from here; try again in {wait} seconds.")


def _throttled(response: HttpResponse, wait: int) -> HttpResponse:
    response.status_code = 429
    response["Retry-After"] = str(wait)
    return response


class LoginView(auth_views.LoginView):
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        wait = attempt_wait(request, action="sign_in", username=request.POST.get("username", ""))
        if wait is None:
            return super().post(request, *args, **kwargs)
        form = self.get_form(self.get_form_class())
        _too_many(form, wait, "sign-in")
        return _throttled(self.render_to_response(self.get_context_data(form=form)), wait)


def signup(request):
    target = request.POST.get("next") or request.GET.get("next") or "/for-you/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/for-you/"
    if request.user.is_authenticated:  # no second account by accident: say who is signed in
        return render(request, "registration/signup.html", {"form": None, "next": target})
    wait = None
    if request.method == "POST":
        wait = attempt_wait(request, action="sign_up", username=request.POST.get("username", ""))
        form = SignupForm(request.POST)
        if wait is None and form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(target)
    else:
        form = SignupForm()
    if wait is not None:
        _too_many(form, wait, "sign-up")
    response = render(request, "registration/signup.html", {"form": form, "next": target})
    return response if wait is None else _throttled(response, wait)
