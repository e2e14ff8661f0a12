"""The history page (one's own listens, with like, dislike and "exclude from my taste") and the
import page (upload a history file, follow its import, read its report; scrobbling set-up)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from listening import selectors
from listening.models import Feedback, ImportBatch
from listening.services import feedback_set, listen_set_excluded
from listening.services.uploads import UploadRefused, history_upload_accept

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


@login_required
def import_page(request):
    """GET: the upload form, this listener's recent imports and the scrobbling set-up.
    POST: accept one file into the listener's own history, then follow it on its own page."""
    if request.method == "POST":
        uploaded = request.FILES.get("history")
        if uploaded is None:
            messages.error(request, "Choose a file to import first.")
        else:
            try:
                batch = history_upload_accept(user=request.user, uploaded=uploaded)
            except UploadRefused as exc:
                messages.error(request, str(exc))
            else:
                return redirect("import-detail", batch_id=batch.pk)
    token, _ = Token.objects.get_or_create(user=request.user)
    context = {
        "batches": ImportBatch.objects.filter(user=request.user)[:10],
        "token": token.key,
        "server_url": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "listening/import.html", context)


@login_required
def import_detail(request, batch_id: int):
    """One upload: progress while it waits or runs (the page refreshes itself), then its report.
    Another listener's import is 404."""
    batch = get_object_or_404(ImportBatch, pk=batch_id, user=request.user)
    running = batch.status in (ImportBatch.Status.PENDING, ImportBatch.Status.RUNNING)
    percent = round(100 * batch.bytes_done / batch.bytes_total) if batch.bytes_total else 0
    return render(request, "listening/import_detail.html",
                  {"batch": batch, "running": running, "percent": min(percent, 100)})  # fmt: skip
