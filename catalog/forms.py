"""The "how it sounds" filters of the browse and search pages (the API has the same ones)."""

from django import forms

from catalog.models import AudioFeatures

ENERGY_LEVELS = {  # listener words for the energy feature's 0..1 range (docs/features.md)
    "low": (0.0, 0.4),
    "medium": (0.4, 0.7),
    "high": (0.7, 1.0),
}


class SoundFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200)
    mood = forms.ChoiceField(
        required=False,
        choices=[("", "Any mood"), *[(m, m.title()) for m in AudioFeatures.MOODS]],
    )
    tempo_min = forms.IntegerField(required=False, min_value=0, max_value=400, label="Tempo from")
    tempo_max = forms.IntegerField(required=False, min_value=0, max_value=400, label="to (BPM)")
    energy = forms.ChoiceField(
        required=False,
        choices=[("", "Any energy"), *[(lv, f"{lv.title()} energy") for lv in ENERGY_LEVELS]],
    )

    def filters(self) -> dict:
        """Keyword arguments for catalog.selectors.tracks_query (empty when the form is invalid)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        low, high = ENERGY_LEVELS.get(data.get("energy") or "", (None, None))
        return {
            "emotion": data.get("mood") or "",
            "tempo_min": data.get("tempo_min"),
            "tempo_max": data.get("tempo_max"),
            "energy_min": low,
            "energy_max": high,
        }

    def active(self) -> bool:
        return any(value not in (None, "") for key, value in self.filters().items())
