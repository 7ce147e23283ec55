"""A realistic, deterministic demo data set: staff, cohorts, clients, session logs and measures."""

from hipline.demo_data.generate import DemoSummary, generate_demo

__all__ = ["DemoSummary", "generate_demo"]
