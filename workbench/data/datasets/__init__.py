"""Real datasets shipped with the package (nothing is downloaded at run time)."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from io import BytesIO

import pandas as pd

from workbench.data._spec import DatasetSpec, infer_spec
from workbench.errors import DataError

__all__ = ["ADULT_COLUMNS", "DemoDataset", "list_demos", "load_demo"]

ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]
_ADULT_SHA256 = {
    "adult.data": "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
    "adult.test": "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
}
_SKLEARN = {
    "breast_cancer": ("load_breast_cancer", "binary"),
    "wine": ("load_wine", "multiclass"),
    "iris": ("load_iris", "multiclass"),
    "diabetes": ("load_diabetes", "regression"),
}


@dataclass(frozen=True)
class DemoDataset:
    """A bundled dataset: its official train/test split, its spec, its provenance."""

    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    spec: DatasetSpec
    description: str
    licence: str
    source: str

    @property
    def frame(self) -> pd.DataFrame:
        """Train and test together, with a `split` column."""
        return pd.concat(
            [self.train.assign(split="train"), self.test.assign(split="test")], ignore_index=True
        )

    def __iter__(self):  # allows ``train, test, spec = load_demo("adult")``
        return iter((self.train, self.test, self.spec))


def list_demos() -> list[str]:
    """Names accepted by :func:`load_demo`."""
    return ["adult", *_SKLEARN]


def load_demo(name: str = "adult") -> DemoDataset:
    """Load a bundled dataset with its train/test split and spec.

    ``"adult"`` is the UCI Adult census data (48,842 rows, CC BY 4.0; target
    ``income``, positive class ``>50K``; sensitive ``sex`` and ``race``) with
    its official split. ``"breast_cancer"``, ``"wine"``, ``"iris"`` and
    ``"diabetes"`` come from scikit-learn's bundled sets (seeded 75/25 split),
    for multiclass and regression examples.

    Examples
    --------
    >>> demo = load_demo("adult")
    >>> len(demo.train), len(demo.test), demo.spec.positive_label
    (32561, 16281, '>50K')
    """
    if name == "adult":
        train, test = _adult()
        spec = infer_spec(train, target="income", sensitive=["sex", "race"], positive=">50K")
        return DemoDataset(
            "adult",
            train.copy(),
            test.copy(),
            spec,
            description="UCI Adult census income (1994 US Census extract): income >50K per year",
            licence="CC BY 4.0",
            source="UCI Machine Learning Repository, Adult (Becker & Kohavi, 1996), doi:10.24432/C5XW20",
        )
    if name in _SKLEARN:
        return _sklearn_demo(name)
    raise DataError(f"unknown demo dataset '{name}'; choose one of {', '.join(list_demos())}")


@lru_cache(maxsize=1)
def _adult() -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = resources.files("workbench.data.datasets") / "adult"
    frames = []
    for fname, skip in (("adult.data", 0), ("adult.test", 1)):
        raw = gzip.decompress((folder / f"{fname}.gz").read_bytes())
        digest = hashlib.sha256(raw).hexdigest()
        if digest != _ADULT_SHA256[fname]:
            raise DataError(f"the bundled {fname} is corrupted (checksum mismatch); reinstall workbench")
        df = pd.read_csv(
            BytesIO(raw),
            names=ADULT_COLUMNS,
            header=None,
            skiprows=skip,
            skipinitialspace=True,
            na_values="?",
            index_col=False,
        )
        df = df.dropna(how="all")
        df["income"] = df["income"].str.rstrip(".")
        for c in ("age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"):
            df[c] = df[c].astype("int64")
        frames.append(df.reset_index(drop=True))
    return frames[0], frames[1]


def _sklearn_demo(name: str) -> DemoDataset:
    import sklearn.datasets as skd
    from sklearn.model_selection import train_test_split

    loader, task = _SKLEARN[name]
    bunch = getattr(skd, loader)(as_frame=True)
    df = bunch.frame.copy()
    target = "target"
    if task != "regression":
        df[target] = pd.Categorical.from_codes(df[target], list(bunch.target_names)).astype(str)
    strat = df[target] if task != "regression" else None
    train, test = train_test_split(df, test_size=0.25, random_state=0, stratify=strat)
    pos = "malignant" if name == "breast_cancer" else None
    spec = infer_spec(train, target=target, task=task, positive=pos)
    return DemoDataset(
        name,
        train.reset_index(drop=True),
        test.reset_index(drop=True),
        spec,
        description=f"scikit-learn's bundled {name} dataset",
        licence="BSD-3-Clause (scikit-learn)",
        source=f"sklearn.datasets.{loader}",
    )
