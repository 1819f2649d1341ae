"""Every differentiable op, forward and backward side by side, one module per family; bindings.py ties them to
`microtensor.NAME` and `Tensor.NAME`. (A regular package, so the API reference tools find its modules.)"""
