from django.apps import AppConfig


class RecommenderConfig(AppConfig):
    name = "recommender"

    def ready(self) -> None:
        from core.health import report_model_version

        report_model_version(_active_model_version)


def _active_model_version() -> int | None:
    from recommender.selectors import active_model_version  # on first use: keeps startup light

    return active_model_version()
