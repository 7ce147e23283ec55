"""Red-flag notes (docs/metrics.md): which words count, whole words only, negations, and a configurable list."""

from __future__ import annotations

import pytest

from analytics import Analytics
from analytics.red_flags import RedFlagWords, load_red_flag_words
from tests.analytics.clinic import Clinic


@pytest.mark.parametrize(
    ("note", "red_flag"),
    [
        ("Some swelling around the knee after class", True),
        ("Knee SWOLLEN this morning", True),
        ("Said the knee gave way on the stairs", True),
        ("Reports the hip feels unstable when walking", True),
        ("Numbness down the left leg", True),
        ("pins and needles in the foot", True),
        ("Night pain is waking her up", True),
        ("Had a fall at home", True),
        ("She fell on the ice", True),
        ("No swelling today", False),
        ("denies any numbness", False),
        ("No signs of instability", False),
        ("no swelling but some tingling", True),  # the tingling is not negated
        ("Walked in the rainfall", False),  # whole words only
        ("Good session, moving well", False),
        ("", False),
        (None, False),
    ],
)
def test_the_default_word_list(note, red_flag):
    assert load_red_flag_words().is_red_flag(note) is red_flag


def test_the_word_list_is_configurable_and_used_by_the_metrics(tmp_path):
    words_file = tmp_path / "words.yaml"
    words_file.write_text("signs:\n  dizziness: [dizzy, dizziness]\nnegations: ['no']\n")
    words = load_red_flag_words(words_file)
    assert words.is_red_flag("felt dizzy after") and not words.is_red_flag("some swelling")
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    clinic.session("C-1", "2026-06-29", notes="Felt dizzy after the bridge")
    clinic.session("C-1", "2026-06-29", session_type="home", notes="Some swelling")
    with clinic.analytics("2026-06-30") as a:
        assert a.client_metrics().iloc[0]["flags"].startswith("refer")  # default list: the swelling
    with Analytics.open(clinic.folder / "hipline.duckdb", a.scope, a.today, words) as custom:
        notes = custom.red_flag_notes()
    assert list(notes["note"]) == ["Felt dizzy after the bridge"]
    assert list(notes["signs"]) == ["dizziness"]


def test_a_broken_word_list_says_what_is_expected(tmp_path):
    words_file = tmp_path / "words.yaml"
    words_file.write_text("- just a list\n")
    with pytest.raises(ValueError, match="signs"):
        load_red_flag_words(words_file)


def test_no_negations_means_every_sign_counts():
    words = RedFlagWords({"swelling": ("swelling",)}, ())
    assert words.is_red_flag("no swelling")
