"""Fixtures for calling the pages' callbacks in-process."""

from __future__ import annotations

import contextlib

import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict


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
