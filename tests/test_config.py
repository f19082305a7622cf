import pytest

from engagement.config import SampleConfig


def test_toml_overrides_parameters_and_effects(tmp_path):
    path = tmp_path / "null.toml"
    path.write_text("students = 600\n[effects]\npersonal_contact = 0.0\n", encoding="utf-8")
    config = SampleConfig.from_toml(path, seed=3)
    assert config.students == 600 and config.seed == 3
    assert config.effects.personal_contact == 0.0
    assert config.effects.written_contact == SampleConfig().effects.written_contact


def test_unknown_setting_is_an_error_not_ignored(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text("studnets = 600\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown setting.*studnets"):
        SampleConfig.from_toml(path)


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("students = \n", encoding="utf-8")
    with pytest.raises(ValueError, match="broken.toml: not valid TOML"):
        SampleConfig.from_toml(path)
