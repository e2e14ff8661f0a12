"""Model versions in Django admin: metrics at a glance, retrain now, activate a version."""

from io import StringIO

from django.core.management import call_command

from recommender.models import ModelVersion


def test_retrain_now_and_activate_an_older_version(staff_client, world):
    response = staff_client.post("/admin/recommender/modelversion/retrain/", follow=True)
    assert response.status_code == 200
    first = ModelVersion.objects.get()
    assert first.status == "active"
    assert f"Model {first.pk}: active" in response.content.decode()

    call_command("retrain", "--force", stdout=StringIO())
    second = ModelVersion.objects.get(status="active")
    assert second.pk != first.pk

    page = staff_client.get("/admin/recommender/modelversion/").content.decode()
    assert "Retrain now" in page
    assert f"{second.ndcg:.4f}" in page  # NDCG@10 at a glance

    response = staff_client.post(
        "/admin/recommender/modelversion/",
        {"action": "activate", "_selected_action": [first.pk]},
        follow=True,
    )
    assert f"Model {first.pk} is now active" in response.content.decode()
    assert ModelVersion.objects.get(status="active").pk == first.pk


def test_activate_wants_exactly_one_version(staff_client, world):
    call_command("retrain", stdout=StringIO())
    call_command("retrain", "--no-activate", stdout=StringIO())
    ids = list(ModelVersion.objects.values_list("pk", flat=True))
    response = staff_client.post(
        "/admin/recommender/modelversion/",
        {"action": "activate", "_selected_action": ids},
        follow=True,
    )
    assert "Select exactly one version" in response.content.decode()


def test_training_defaults_are_editable(staff_client, world):
    from recommender.services import training_defaults

    defaults = training_defaults()
    response = staff_client.post(
        f"/admin/recommender/trainingdefaults/{defaults.pk}/change/",
        {"factors": 32, "iterations": 10, "regularization": 0.2, "alpha": 7.5,
         "confidence": "clipped"},
    )  # fmt: skip
    assert response.status_code == 302
    call_command("retrain", stdout=StringIO())
    assert ModelVersion.objects.get().params["alpha"] == 7.5
    assert ModelVersion.objects.get().params["confidence"] == "clipped"
