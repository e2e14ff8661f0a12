from django.apps import AppConfig
from django.conf import settings


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        # Uploads stream into tmp/ and are renamed into media/: both must exist.
        for folder in (settings.MEDIA_ROOT, settings.FILE_UPLOAD_TEMP_DIR):
            settings.DATA_DIR.joinpath(folder).mkdir(parents=True, exist_ok=True)
