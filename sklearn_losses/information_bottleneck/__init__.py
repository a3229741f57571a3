"""Cauchy-Schwarz divergence information bottleneck for regression (Yu et al., ICLR 2024).

:func:`cs_divergence`, :func:`conditional_cs_divergence` and
:func:`cs_mutual_information` estimate the CS quantities from samples;
:class:`CSIBRegressor` trains an encoder-decoder network on the CS-IB objective
(prediction by the conditional CS divergence, compression by ``I_CS(x; t)``).
"""

from ._divergences import conditional_cs_divergence, cs_divergence, cs_mutual_information
from ._regressor import CSIBRegressor

__all__ = [
    "CSIBRegressor",
    "conditional_cs_divergence",
    "cs_divergence",
    "cs_mutual_information",
]
