"""(being written)"""

import dash
from dash import html


def register() -> None:
    dash.register_page(__name__, path="/import", layout=lambda **kw: html.Div("being written"))
