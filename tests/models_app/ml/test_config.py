import json

import pytest

from models_app.ml.config import PRESETS, ConfigError, FeatureConfig, ModelConfig


def test_a_config_survives_a_json_round_trip():
    config = ModelConfig(features=FeatureConfig(fields=("title", "brand"), char_ngrams=None), classifier="sgd")
    assert ModelConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_to_dict_gives_lists_for_tuples():
    assert ModelConfig().to_dict()["features"]["word_ngrams"] == [1, 2]


def test_from_dict_fills_missing_keys_with_defaults():
    assert ModelConfig.from_dict({"features": {"lowercase": False}}) == ModelConfig(
        features=FeatureConfig(lowercase=False)
    )


def test_from_dict_names_an_unknown_key():
    with pytest.raises(ConfigError, match="unknown model config key\\(s\\): colour"):
        ModelConfig.from_dict({"colour": "red"})


def test_from_dict_names_an_unknown_feature_key():
    with pytest.raises(ConfigError, match="unknown features key\\(s\\): stemming"):
        ModelConfig.from_dict({"features": {"stemming": True}})


def test_an_unknown_classifier_is_named_in_the_error():
    with pytest.raises(ConfigError, match="no-such-classifier"):
        ModelConfig.from_dict({"classifier": "no-such-classifier"})


def test_an_unknown_tokenizer_is_refused():
    with pytest.raises(ConfigError, match="tokenizer must be one of"):
        FeatureConfig(tokenizer="nltk")


def test_a_reversed_ngram_range_is_refused():
    with pytest.raises(ConfigError, match="word_ngrams"):
        ModelConfig.from_dict({"features": {"word_ngrams": [2, 1]}})


def test_a_holdout_above_one_half_is_refused():
    with pytest.raises(ConfigError, match="holdout"):
        ModelConfig(holdout=0.9)


def test_a_string_c_is_refused():
    with pytest.raises(ConfigError, match="C must be a positive number"):
        ModelConfig.from_dict({"C": "10"})


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_each_preset_changes_one_feature_setting_of_the_default():
    default = PRESETS["default"].features.__dict__
    for name, preset in PRESETS.items():
        changed = [key for key, value in preset.features.__dict__.items() if default[key] != value]
        assert len(changed) == (0 if name == "default" else 1), name
