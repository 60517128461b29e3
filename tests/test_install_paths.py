"""Where an installed dsar keeps its state and reads the shop's rules: never inside the
package, and wherever the operator says."""

from __future__ import annotations

import pytest
from flask import Flask

from dsar import i18n
from dsar.app import create_app
from dsar.work import rules


def test_state_goes_to_the_instance_folder_given_or_under_where_dsar_starts(
    tmp_path, monkeypatch
):
    """DSAR_INSTANCE_DIR names the folder; without it, `instance` where dsar is started."""
    given = tmp_path / "state"
    monkeypatch.setenv("DSAR_INSTANCE_DIR", str(given))
    app = create_app({"SECRET_KEY": "k" * 40})
    assert app.instance_path == str(given.resolve()) and given.is_dir()

    monkeypatch.delenv("DSAR_INSTANCE_DIR")
    started_in = tmp_path / "elsewhere"
    started_in.mkdir()
    monkeypatch.chdir(started_in)
    app = create_app({"SECRET_KEY": "k" * 40})
    assert app.instance_path == str((started_in / "instance").resolve())


def test_the_shops_own_config_folder_replaces_the_default_files(tmp_path, monkeypatch):
    """DSAR_CONFIG_DIR: the retention rules and the recipients register are read from there."""
    (tmp_path / "retention.toml").write_text(
        '[notes]\npolicy = "Kept a month."\non_erasure = "erase"\n'
        'kept = { after = "made_at", months = 1, open = "a month after it is made" }\n')
    (tmp_path / "recipients.toml").write_text("")
    monkeypatch.setenv("DSAR_CONFIG_DIR", str(tmp_path))
    rules.load_rules.cache_clear()
    rules.recipients_register.cache_clear()
    try:
        assert set(rules.load_rules()) == {"notes"}
        assert rules.recipients_register().recipients == ()
    finally:
        monkeypatch.delenv("DSAR_CONFIG_DIR")
        rules.load_rules.cache_clear()
        rules.recipients_register.cache_clear()
    assert "orders" in rules.load_rules(), "the default files again"


def test_a_missing_dutch_catalogue_stops_the_start_rather_than_serving_english(tmp_path):
    """Without the compiled catalogue every page would be English: dsar says so and stops."""
    (tmp_path / "nl" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "nl" / "LC_MESSAGES" / "messages.po").write_text("")
    with pytest.raises(i18n.CatalogueMissing, match="Nederlands catalogue is not compiled"):
        i18n.init_app(Flask("t"), str(tmp_path))
    (tmp_path / "nl" / "LC_MESSAGES" / "messages.mo").write_bytes(b"")
    i18n.init_app(Flask("t"), str(tmp_path))
