"""Type aliases for public signatures (documentation for readers and type checkers; nothing is
checked at run time).

- `Scalars`: Python numbers or arrays of any shape that broadcast against a kernel's other
  keyword arguments (`n`, `p2`, `lam`, …); a kernel's result has the broadcast shape.
- `Counts`: concrete integers that set array shapes (a Python `int`, or an array of them).
- `Key`: a `jax.random` key (new-style `jax.random.key` or legacy `PRNGKey`).
"""

from __future__ import annotations

from typing import TypeAlias

from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

Scalars: TypeAlias = Float[ArrayLike, "*points"]
Counts: TypeAlias = int | Int[ArrayLike, "*points"]
Key: TypeAlias = PRNGKeyArray | Array
Values: TypeAlias = Float[Array, "*points"]

__all__ = ["Counts", "Key", "Scalars", "Values"]
