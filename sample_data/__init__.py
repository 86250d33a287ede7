"""The project's fictional sample data set (see README.md here), shipped in the wheel as package data.

A package only so an installed `matchmaker demo` finds these files: `DIR` is where they are.
"""

from pathlib import Path

DIR = Path(__file__).resolve().parent
