"""scikit-learn estimators built on recent loss-function research.

Importing the package is cheap: it loads no family, no numba kernel and never
torch.  Each family is a subpackage imported on first use::

    from sklearn_losses.naive_bayes import SharedVarianceGaussianNB
"""

__version__ = "0.1.0.dev0"

#: Family name -> (subpackage, paper).  The command line and the docs read this table.
FAMILIES = {
    "presto": (
        "ordinal",
        "Faletto & Bien, Predicting Rare Events by Shrinking Towards Proportional Odds, ICML 2023",
    ),
    "naive_bayes": (
        "naive_bayes",
        "Zheng et al., Revisiting Discriminative vs. Generative Classifiers, ICML 2023",
    ),
    "aggregate": (
        "aggregate",
        "Javanmard et al., Learning from Aggregate Responses: Instance Level versus Bag Level "
        "Loss Functions, ICLR 2024",
    ),
    "ensloss": (
        "ensloss",
        "Dai, EnsLoss: Stochastic Calibrated Loss Ensembles for Preventing Overfitting in "
        "Classification, ICML 2025",
    ),
    "csib": (
        "information_bottleneck",
        "Yu et al., Cauchy-Schwarz Divergence Information Bottleneck for Regression, ICLR 2024",
    ),
    "cca": (
        "cross_decomposition",
        "Chapman, Wells & Lawry Aguila, Unconstrained Stochastic CCA, ICLR 2024",
    ),
}

__all__ = ["FAMILIES", "__version__"]
