import jax
import pytest

jax.config.update("jax_enable_x64", True)


def close_to_table(value, printed: str) -> bool:
    """Agreement with a table entry to the precision it is printed with (half a unit in the last digit),
    or 1e-6 relative, whichever is looser: the tables round to about six significant digits."""
    digits = printed.lower().split("e")[0]
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    exponent = int(printed.lower().split("e")[1]) if "e" in printed.lower() else 0
    half_unit = 0.5 * 10.0 ** (exponent - decimals)
    expected = float(printed)
    return abs(float(value) - expected) <= max(half_unit * (1 + 1e-9), 1e-6 * abs(expected))


@pytest.fixture
def key():
    return jax.random.key(20261124)
