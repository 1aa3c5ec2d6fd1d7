import pytest
from pydantic import ValidationError

from llmlab_core import InvalidUsageError, Usage


def test_tokens_used_is_input_plus_output():
    usage = Usage(input_tokens=120, cache_read_tokens=20, output_tokens=30, reasoning_tokens=10)
    assert usage.tokens_used == 150


def test_all_counts_default_to_zero():
    assert Usage().tokens_used == 0


def test_cached_tokens_cannot_exceed_total_input():
    with pytest.raises(ValidationError, match=r"exceeds input_tokens \(10\)"):
        Usage(input_tokens=10, cache_read_tokens=6, cache_write_tokens=5)


def test_reasoning_tokens_cannot_exceed_output():
    with pytest.raises(ValidationError, match=r"reasoning_tokens \(11\) exceeds output_tokens"):
        Usage(output_tokens=10, reasoning_tokens=11)


@pytest.mark.parametrize("field", ["input_tokens", "output_tokens", "cache_read_tokens"])
def test_negative_counts_are_rejected(field):
    with pytest.raises(ValidationError, match=field):
        Usage(**{field: -1})


def test_counts_above_one_billion_are_rejected():
    Usage(input_tokens=1_000_000_000)
    with pytest.raises(ValidationError, match="less than or equal to 1000000000"):
        Usage(input_tokens=1_000_000_001)


@pytest.mark.parametrize("value", [True, "10", 1.5])
def test_counts_must_be_real_integers(value):
    with pytest.raises(ValidationError):
        Usage(input_tokens=value)


def test_unknown_fields_are_rejected():
    with pytest.raises(ValidationError, match="tokens_used"):
        Usage(tokens_used=5)


def test_usage_is_immutable():
    usage = Usage(input_tokens=1)
    with pytest.raises(ValidationError):
        usage.input_tokens = 2


def test_invalid_usage_error_is_a_value_error_with_the_llmlab_base():
    from llmlab_core import LLMLabError

    assert issubclass(InvalidUsageError, ValueError)
    assert issubclass(InvalidUsageError, LLMLabError)


def test_one_hour_cache_writes_are_part_of_cache_writes():
    with pytest.raises(ValidationError, match=r"cache_write_1h_tokens \(6\) exceeds"):
        Usage(input_tokens=10, cache_write_tokens=5, cache_write_1h_tokens=6)

    usage = Usage(input_tokens=10, cache_write_tokens=5, cache_write_1h_tokens=5)
    assert usage.cache_write_1h_tokens == 5
