"""Where the project keeps its state and finds its data, from a checkout and from an installed wheel."""

from __future__ import annotations

from pathlib import Path

import services.settings as settings_module
from services.kafka.local import LOG4J_CONFIG, POM
from services.settings import PROJECT_ROOT, Settings


def test_checkout_keeps_its_home_in_the_repository(monkeypatch):
    monkeypatch.delenv("MATCHMAKER_HOME", raising=False)
    assert Settings().home == PROJECT_ROOT / ".matchmaker"


def test_installed_wheel_keeps_its_home_in_the_users_data_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("MATCHMAKER_HOME", raising=False)
    monkeypatch.setattr(settings_module, "PROJECT_ROOT", tmp_path / "site-packages")  # no pyproject.toml there
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert Settings().home == tmp_path / "data" / "matchmaker"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert Settings().home == Path.home() / ".local" / "share" / "matchmaker"


def test_relative_home_means_the_same_directory_to_child_processes(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MATCHMAKER_HOME", "state")
    assert Settings().home == tmp_path / "state"


def test_broker_files_and_sample_data_live_in_packages():
    assert POM.is_file() and LOG4J_CONFIG.is_file()
    sample = Settings().sample_data_dir
    assert (sample / "challenges.jsonl").is_file() and (sample / "companies.jsonl").is_file()
    assert sample == PROJECT_ROOT / "sample_data"  # the same folder the README and `matchmaker eval` use
