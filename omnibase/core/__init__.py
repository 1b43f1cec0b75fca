"""The pure core: values, steps, combinators, policies, selectors. No I/O, no clock."""
