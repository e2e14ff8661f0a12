"""The history page: one's own listens, with like, dislike and "exclude from my taste"."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from listening import selectors
from listening.models import Feedback
from listening.services import feedback_set, listen_set_excluded

PAGE_SIZE = 25


@login_required
def history(request):
    page = Paginator(selectors.history_for_user(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    kinds = dict(
        selectors.feedback_for_user(user=request.user)
        .filter(track_id__in=[event.track_id for event in page])
        .values_list("track_id", "kind")
    )
    rows = [{"event": event, "feedback": kinds.get(event.track_id)} for event in page]
    return render(request, "listening/history.html", {"page": page, "rows": rows})


@login_required
@require_POST
def history_action(request):
    """Like, dislike, exclude or include one listen; then back to the same history page."""
    action = request.POST.get("action", "")
    try:
        event = selectors.history_for_user(user=request.user).get(pk=int(request.POST["event"]))
        if action in (Feedback.Kind.LIKE, Feedback.Kind.DISLIKE):
            feedback_set(user=request.user, kind=action, track_id=event.track_id)
            messages.success(request, f"{event.track.title}: marked as {action}d.")
        elif action in ("exclude", "include"):
            listen_set_excluded(user=request.user, event_id=event.pk, excluded=action == "exclude")
            messages.success(
                request,
                f"This listen of {event.track.title} is "
                + (
                    "left out of your taste."
                    if action == "exclude"
                    else "part of your taste again."
                ),
            )
        else:
            messages.error(request, "Unknown action.")
    except (KeyError, ValueError, ObjectDoesNotExist, ValidationError):
        messages.error(request, "That listen could not be changed.")
    page = request.POST.get("page", "")
    return redirect(f"/history/?page={page}" if page.isdigit() else "/history/")
