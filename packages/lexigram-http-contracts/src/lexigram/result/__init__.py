"""A small, strictly typed result type: ``Ok(value)`` or ``Err(error)``.

>>> from lexigram.result import Err, Ok, Result
>>> def parse(text: str) -> Result[int, str]:
...     return Ok(int(text)) if text.isdigit() else Err(f"not a number: {text!r}")
>>> parse("42").map(lambda n: n + 1)
Ok(43)
>>> match parse("x"):
...     case Ok(n):
...         print(n)
...     case Err(message):
...         print(message)
not a number: 'x'
"""

from lexigram.result._result import Err, Ok, Result, UnwrapError

__all__ = ["Err", "Ok", "Result", "UnwrapError"]
