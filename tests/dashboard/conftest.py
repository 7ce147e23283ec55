"""Fixtures for calling the pages' callbacks in-process."""

from __future__ import annotations

import contextlib

import flask
import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

from access.roles import Viewer

ADMIN = Viewer("admin", "S-ADMIN", "An Admin", "admin")


@pytest.fixture(autouse=True)
def signed_in():
    """The callbacks run in a request by a signed-in user (the pages read within a viewer's scope and
    write in their name): an admin unless a test says otherwise with `signed_in(viewer)`."""
    # An application context, not a request's: Dash refuses to register pages inside a request.
    with flask.Flask("callbacks").app_context():
        flask.g.viewer = ADMIN

        def sign_in(viewer: Viewer) -> None:
            flask.g.viewer = viewer

        yield sign_in


@pytest.fixture
def clicked():
    """Run a callback as if `component.n_clicks` had fired it (Dash's callback context)."""

    @contextlib.contextmanager
    def click(component: str):
        token = context_value.set(AttributeDict(triggered_inputs=[{"prop_id": f"{component}.n_clicks", "value": 1}]))
        try:
            yield
        finally:
            context_value.reset(token)

    return click
