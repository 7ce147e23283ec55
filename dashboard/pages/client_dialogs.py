"""The client page's two dialogs (dashboard.pages.client), each recording a clinician's judgement in the
signed-in user's name, audited: Accept / Override a recommended progression (analytics.decisions,
docs/recommendations.md) and Review the red flags (analytics.reviews).

Both are drawn by `_dialog` and saved by a callback on `_saving`: the dialog stays open and says what is
wrong, or closes, stores what it saved in `<name>-saved` (the parts of the page that show it listen to
it) and says so in `<name>-alert`.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from analytics.decisions import DecisionError, Prescription, option, record
from analytics.definitions import DECISIONS
from analytics.reviews import ReviewError, record_review
from dashboard import components as ui
from dashboard import rights
from dashboard.clinic_data import clinic

DECISION_WORDS = {  # the recommendation cards say them too
    "progress": "Progress",
    "hold": "Hold",
    "regress": "Regress",
    "refer": "Refer",
}
REVIEW_OUTCOME_WORDS = {
    "cleared": "Cleared: safe to continue",
    "referred": "Referred on (GP, emergency care, a specialist)",
    "paused": "Paused: exercise stops until a later review",
}
CANCELLED = (False, "", dash.no_update, dash.no_update)  # what a save callback gives for Cancel


def _dialog(name: str, title: dbc.ModalTitle, body: list, confirm: str, confirm_id: str, **modal) -> dbc.Modal:
    """A dialog, closed until opened (`<name>-modal`): `title`, `body`, then Cancel (`<name>-cancel`) and
    the button `confirm` that saves it."""
    return dbc.Modal(
        [
            dbc.ModalHeader(title),
            dbc.ModalBody(body),
            dbc.ModalFooter(
                [
                    dbc.Button("Cancel", id=f"{name}-cancel", color="secondary", outline=True),
                    dbc.Button(confirm, id=confirm_id, color="primary"),
                ]
            ),
        ],
        id=f"{name}-modal",
        is_open=False,
        **modal,
    )


def _saving(name: str, confirm_id: str) -> tuple:
    """The outputs and inputs of the callback that saves a `_dialog`: whether it stays open, what is wrong
    (`<name>-error`), what it saved (`<name>-saved`) and the page's alert (`<name>-alert`); fired by the
    button that saves it, then by Cancel."""
    return (
        Output(f"{name}-modal", "is_open", allow_duplicate=True),
        Output(f"{name}-error", "children", allow_duplicate=True),
        Output(f"{name}-saved", "data"),
        Output(f"{name}-alert", "children"),
        Input(confirm_id, "n_clicks"),
        Input(f"{name}-cancel", "n_clicks"),
    )


def _not_saved(why: str) -> tuple:
    """What a save callback gives when it saves nothing: the dialog stays open and says why."""
    return True, why, dash.no_update, dash.no_update


def _recorded_as(done: str) -> str:
    """'Recorded as reviewed by Dana Reyes (physio), now.': in whose name the dialog saves."""
    viewer = rights.current()
    return f"Recorded as {done} by {viewer.name} ({viewer.role}), now."


# --- Accept / Override a recommendation ------------------------------------------------------------


def decision_dialog() -> dbc.Modal:
    return _dialog(
        "decision",
        dbc.ModalTitle(id="decision-title"),
        [
            html.Div(id="decision-summary"),
            html.P(id="decision-by", className="text-muted small"),
            html.Div(
                [
                    html.Label("Decision instead", htmlFor="decision-choice", className="form-label"),
                    dcc.Dropdown(
                        id="decision-choice",
                        options=[{"label": DECISION_WORDS[d], "value": d} for d in DECISIONS],
                        clearable=False,
                    ),
                    html.Label("Exercise", htmlFor="decision-level", className="form-label mt-2"),
                    dcc.Dropdown(id="decision-level", clearable=False),
                    html.Div(
                        [
                            _number("Sets", "decision-sets"),
                            _number("Reps", "decision-reps"),
                            _number("Hold (s)", "decision-hold"),
                            html.Div(
                                [
                                    html.Label("Tempo", htmlFor="decision-tempo", className="form-label"),
                                    dcc.Input(id="decision-tempo", type="text", className="form-control"),
                                ]
                            ),
                        ],
                        className="dose-inputs",
                    ),
                    html.Label("Reason (required)", htmlFor="decision-reason", className="form-label mt-2"),
                    dcc.Textarea(id="decision-reason", className="form-control", style={"height": "70px"}),
                ],
                id="override-fields",
            ),
            html.Div(id="decision-error", className="text-danger mt-2"),
        ],
        "Confirm",
        "decision-confirm",
        size="lg",
    )


def _number(label: str, id: str) -> html.Div:
    return html.Div(
        [html.Label(label, htmlFor=id, className="form-label"),
         dcc.Input(id=id, type="number", min=0, step=1, className="form-control")]
    )  # fmt: skip


def next_words(rec: dict) -> str:
    """What the recommendation would have the client do next, in words (on its card and in the dialog)."""
    decision = rec["decision"]
    if decision == "refer":
        return "No change until a clinician has reviewed the red flag."
    if decision == "hold" and rec.get("change") == "target dose":
        return f"Keep the level, at its target dose: {rec['next_exercise']}, {rec['next_dose']}"
    if decision == "hold" and rec.get("change") not in (None, "none"):  # a stretch that passed every check
        return f"Dose up to: {rec['next_exercise']}, {rec['next_dose']}"
    if decision == "hold":
        return f"Keep: {rec['next_exercise']}, {rec['next_dose']}"
    verb = "Progress to" if decision == "progress" else "Step back to"
    return f"{verb}: {rec['next_exercise']}, {rec['next_dose']}"


def _recommendation(analytics, client_id: str, ladder: str) -> dict | None:
    recs = analytics.recommendations(client_id)
    match = recs[recs["ladder"] == ladder]
    return None if match.empty else match.iloc[0].to_dict()


# The recommendation the dialog is open on (its ladder, accept or override), of the client, as of the day shown.
PENDING = (State("decision-pending", "data"), State("today", "date"), State("client-id", "data"))


@callback(
    Output("decision-modal", "is_open"),
    Output("decision-pending", "data"),
    Output("decision-title", "children"),
    Output("decision-summary", "children"),
    Output("override-fields", "style"),
    Output("decision-by", "children"),
    Output("decision-choice", "value"),
    Output("decision-level", "options"),
    Output("decision-level", "value"),
    Output("decision-sets", "value"),
    Output("decision-reps", "value"),
    Output("decision-hold", "value"),
    Output("decision-tempo", "value"),
    Output("decision-reason", "value"),
    Output("decision-error", "children"),
    Input({"type": "rec-accept", "ladder": ALL}, "n_clicks"),
    Input({"type": "rec-override", "ladder": ALL}, "n_clicks"),
    State("today", "date"),
    State("client-id", "data"),
    prevent_initial_call=True,
)
@rights.requires("decide")
def open_decision(_accepts, _overrides, today, client_id):
    """Accept or Override opens the same dialog; for an override, what instead and why. The decision is
    the signed-in user's: it is recorded in their name."""
    trigger = ctx.triggered_id
    if not trigger or not (ctx.triggered and ctx.triggered[0]["value"]):
        return (dash.no_update,) * 15
    action = "accept" if trigger["type"] == "rec-accept" else "override"
    ladder = trigger["ladder"]
    with rights.reading(today) as analytics:
        rec = _recommendation(analytics, client_id, ladder)
        levels = analytics.exercise_levels(ladder) if rec is not None and rec["in_library"] else pd.DataFrame()
        day = analytics.today
        decided = analytics.decisions(client_id)  # kept current with the records on every request
    if rec is None:
        return (dash.no_update,) * 15
    by = _recorded_as("decided")
    # A recommendation already decided on today: this decision says that it replaces that one (docs/recommendations.md).
    earlier = decided[(decided["ladder"] == ladder) & (decided["as_of"] == day.isoformat())]
    replaces = None
    if len(earlier):
        last = earlier.iloc[-1]
        replaces = int(last["decision_id"])
        done = "accepted" if last["action"] == "accept" else f"overridden ({last['decision']})"
        who = ui.either(last["decider"], last["decided_by"])
        by += f" This recommendation was already {done} by {who} today: this decision replaces it."
    if len(levels) and not rec["stretch"]:
        level_options = [{"label": f"{r.level}. {r.exercise}", "value": int(r.level)} for r in levels.itertuples()]
        level_value = None if ui.missing(rec["next_level"]) else int(rec["next_level"])
    else:  # a stretch or an exercise the library does not know: only its dose can change
        level_options = [{"label": rec["exercise"], "value": 0}]
        level_value = 0
    family = ui.either(rec["family_label"], rec["exercise"])
    if action == "accept":
        title = f"Accept: {DECISION_WORDS[rec['decision']].lower()} · {family}"
        summary = html.P(next_words(rec), id="decision-what")
    else:
        title = f"Override the recommendation · {family}"
        summary = html.P(f"Recommended: {DECISION_WORDS[rec['decision']].lower()}. {next_words(rec)}",
                         id="decision-what")  # fmt: skip
    return (
        True,
        {"ladder": ladder, "action": action, "replaces": replaces},
        title,
        summary,
        {"display": "none"} if action == "accept" else {},
        by,
        rec["decision"],
        level_options,
        level_value,
        _whole(rec["next_sets"]),
        _whole(rec["next_reps"]),
        _whole(rec["next_hold_s"]),
        None if ui.missing(rec["next_tempo"]) else rec["next_tempo"],
        "",
        "",
    )


@callback(
    Output("decision-level", "value", allow_duplicate=True),
    Output("decision-sets", "value", allow_duplicate=True),
    Output("decision-reps", "value", allow_duplicate=True),
    Output("decision-hold", "value", allow_duplicate=True),
    Output("decision-tempo", "value", allow_duplicate=True),
    Input("decision-choice", "value"),
    *PENDING,
    prevent_initial_call=True,
)
@rights.requires("decide")
def fill_in_decision(choice, pending, today, client_id):
    """Choosing a decision fills in the exercise and dose that agree with it (analytics.decisions.option):
    the engine's step back or up, the level kept, or no change for refer. The clinician may edit them."""
    if not choice or not pending or pending.get("action") != "override":
        return (dash.no_update,) * 5
    with rights.reading(today) as analytics:
        rec = _recommendation(analytics, client_id, pending["ladder"])
    if rec is None:
        return (dash.no_update,) * 5
    chosen = option(rec, choice)
    return (0 if chosen.level is None else chosen.level), chosen.sets, chosen.reps, chosen.hold_s, chosen.tempo


def _whole(value) -> int | None:
    return None if ui.missing(value) else int(value)


@callback(
    *_saving("decision", "decision-confirm"),
    *PENDING,
    State("decision-choice", "value"),
    State("decision-level", "value"),
    State("decision-sets", "value"),
    State("decision-reps", "value"),
    State("decision-hold", "value"),
    State("decision-tempo", "value"),
    State("decision-reason", "value"),
    prevent_initial_call=True,
)
@rights.requires("decide")
def save_decision(_confirm, _cancel, pending, today, client_id, choice, level, sets, reps, hold, tempo, reason):
    """Store the decision in the signed-in user's name (analytics.decisions: who, when, what was shown,
    what was taken), audit it, then refresh. A recommendation outside the viewer's scope reads as one
    that is no longer current (and the attempt is audited)."""
    if ctx.triggered_id == "decision-cancel" or not pending:
        return CANCELLED
    with rights.reading(today) as analytics:
        rec = _recommendation(analytics, client_id, pending["ladder"])
        levels = analytics.exercise_levels(pending["ladder"])
        day = analytics.today
    if rec is None:
        rights.refused("decision", f"{pending['ladder']} of client {client_id}: no such recommendation in their scope",
                       client_id=client_id)  # fmt: skip
        return True, "This recommendation is no longer current: reload the page.", dash.no_update, ""
    prescription = None
    if pending["action"] == "override" and choice in ("regress", "progress", "hold") and level is not None:
        chosen = levels[levels["level"] == level]
        exercise = chosen["exercise"].iloc[0] if len(chosen) else rec["exercise"]
        prescription = Prescription(
            exercise, int(level) if len(chosen) else _whole(rec["level"]), _whole(sets), _whole(reps), _whole(hold),
            tempo or None,
        )  # fmt: skip
    try:
        decision_id = record(
            clinic().db,
            rec,
            decided_by=rights.current().staff_id,
            action=pending["action"],
            decision=choice,
            prescription=prescription,
            reason=reason,
            as_of=day,
            decided_on=day,  # the clinic day reviewed: a decision made while reviewing a day applies from it
            replaces=pending.get("replaces"),
        )
    except DecisionError as e:
        return _not_saved(ui.sentence(e))
    done = "accepted" if pending["action"] == "accept" else "overridden"
    rights.record("decision", f"decision {decision_id}: {done} {rec['decision']} of {rec['ladder']} as of {day}"
                  + (f", {choice} instead: {reason.strip()}" if pending["action"] == "override" else ""),
                  client_id=client_id)  # fmt: skip
    message = ui.alert(f"Recommendation {done}; the recommendations below are updated.", "success", id="decision-done")
    return False, "", {"ladder": pending["ladder"], "at": pd.Timestamp.now().isoformat()}, message


# --- Review the red flags --------------------------------------------------------------------------


def review_dialog() -> dbc.Modal:
    return _dialog(
        "review",
        dbc.ModalTitle("Review the red flags"),
        [
            html.P("A review covers every red-flag note up to the day shown. Referred or paused puts the "
                   "client on hold until a later review clears it.", className="text-muted small"),
            html.Label("Outcome", htmlFor="review-outcome", className="form-label"),
            dcc.RadioItems(
                id="review-outcome",
                options=[{"label": words, "value": o} for o, words in REVIEW_OUTCOME_WORDS.items()],
                labelStyle={"display": "block"},
                inputStyle={"marginRight": "6px"},
            ),
            html.Label("Referred to", htmlFor="review-to", className="form-label mt-2"),
            dcc.Input(id="review-to", type="text", className="form-control",
                      placeholder="GP, emergency care, orthopaedic surgeon…"),
            html.Label("Note (required)", htmlFor="review-note", className="form-label mt-2"),
            dcc.Textarea(id="review-note", className="form-control", style={"height": "70px"}),
            html.P(id="review-by", className="text-muted small mt-2"),
            html.Div(id="review-error", className="text-danger mt-2"),
        ],
        "Save review",
        "review-save",
    )  # fmt: skip


@callback(
    Output("review-modal", "is_open"),
    Output("review-outcome", "value"),
    Output("review-to", "value"),
    Output("review-note", "value"),
    Output("review-by", "children"),
    Output("review-error", "children"),
    Input("review-open", "n_clicks"),
    prevent_initial_call=True,
)
@rights.requires("review")
def open_review(clicks):
    if not clicks:
        return (dash.no_update,) * 6
    return True, None, "", "", _recorded_as("reviewed"), ""


@callback(
    *_saving("review", "review-save"),
    State("today", "date"),
    State("client-id", "data"),
    State("review-outcome", "value"),
    State("review-to", "value"),
    State("review-note", "value"),
    prevent_initial_call=True,
)
@rights.requires("review")
def save_review(_save, _cancel, today, client_id, outcome, to, note):
    """Store the review in the signed-in user's name, dated the day the page shows (it covers the
    notes up to it), audit it, then refresh the page. A client outside the viewer's scope reads as one
    that does not exist (and the attempt is audited)."""
    if ctx.triggered_id == "review-cancel":
        return CANCELLED
    with rights.reading(today) as analytics:
        known = analytics.has_client(client_id)
        day = analytics.today
    if not known:
        return _not_saved("There is no such client.")
    if not outcome:
        return _not_saved("Choose an outcome.")
    try:
        review_id = record_review(clinic().db, client_id, outcome=outcome, note=note or "", referred_to=to,
                                  reviewed_by=rights.current().staff_id, reviewed_on=day)  # fmt: skip
    except ReviewError as e:
        return _not_saved(ui.sentence(e))
    to_whom = f" to {to.strip()}" if outcome == "referred" and to else ""
    rights.record("review", f"review {review_id}: {outcome}{to_whom} as of {day}: {note.strip()}", client_id=client_id)
    message = ui.alert(f"Review saved: {outcome}{to_whom}.", "success", id="review-done")
    return False, "", {"review": review_id}, message
