"""Progress reports (docs/reports.md): a client's progress report as PDF, built with WeasyPrint from an
HTML template, its charts the pages' own figure builders rendered to SVG."""
