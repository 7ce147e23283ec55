"""What the pages and the reports both show, without Dash: the figure builders (`figures.py`), the
colours (`palette.py`) and numbers and dates in clinic words (`formats.py`). Never imports `dash`."""
