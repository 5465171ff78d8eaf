"""Behaviour of table loading and fingerprinting on real data and on broken files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data.datasets import load_demo
from workbench.data.io import fingerprint, load_table
from workbench.errors import DataError


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    """300 real Adult rows: hyphenated names, text, integers and missing values."""
    df = load_demo("adult").test.head(300).copy()
    assert df.isna().any().any()
    return df


def _one_line_naming(err: pytest.ExceptionInfo, path: Path) -> str:
    msg = str(err.value)
    assert str(path) in msg
    assert "\n" not in msg and "Traceback" not in msg
    return msg


# -- round trips ------------------------------------------------------------------
def test_csv_round_trip(tmp_path, adult):
    path = tmp_path / "current.csv"
    adult.to_csv(path, index=False)
    back = load_table(path)
    pd.testing.assert_frame_equal(back, adult.reset_index(drop=True))
    assert back["workclass"].isna().sum() == adult["workclass"].isna().sum() > 0


def test_parquet_round_trip_keeps_values_and_reads_text_as_categories(tmp_path, adult):
    df = adult.assign(ratio=np.linspace(0, 1, len(adult)), flag=adult["sex"] == "Female")
    path = tmp_path / "reference.parquet"
    df.to_parquet(path, index=False)
    back = load_table(path)
    assert back["workclass"].isna().sum() == df["workclass"].isna().sum() > 0
    # text columns come back as categoricals (Arrow's dictionary encoding: fast and small)
    text = [c for c in df.columns if df[c].dtype == object]
    assert text and all(isinstance(back[c].dtype, pd.CategoricalDtype) for c in text)
    back[text] = back[text].astype(object)
    back = back.where(back.notna(), np.nan)
    pd.testing.assert_frame_equal(back, df.reset_index(drop=True))
    assert back["flag"].dtype == bool and back["age"].dtype == np.int64


@pytest.mark.parametrize("suffix", [".pq", ".parq"])
def test_other_parquet_suffixes(tmp_path, adult, suffix):
    path = tmp_path / f"batch{suffix}"
    adult.to_parquet(path, index=False)
    assert load_table(path).shape == adult.shape


def test_tsv_is_read_with_tabs(tmp_path, adult):
    path = tmp_path / "batch.tsv"
    adult.to_csv(path, sep="\t", index=False)
    back = load_table(path)
    assert back.columns.tolist() == adult.columns.tolist()
    pd.testing.assert_frame_equal(back, adult.reset_index(drop=True))


def test_gzipped_csv(tmp_path, adult):
    path = tmp_path / "batch.csv.gz"
    with gzip.open(path, "wt") as fh:
        adult.to_csv(fh, index=False)
    pd.testing.assert_frame_equal(load_table(path), adult.reset_index(drop=True))


def test_suffix_is_case_insensitive_and_str_paths_work(tmp_path, adult):
    path = tmp_path / "BATCH.CSV"
    adult.to_csv(path, index=False)
    assert load_table(str(path)).shape == adult.shape


def test_dataframe_passes_through(adult):
    assert load_table(adult) is adult


def test_column_names_become_strings(tmp_path):
    path = tmp_path / "numbers.parquet"
    pd.DataFrame({"a": [1, 2], "b": [3, 4]}).to_parquet(path)
    df = load_table(path)
    assert all(isinstance(c, str) for c in df.columns)


# -- errors: one sentence naming the file -----------------------------------------
def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(DataError, match="does not exist") as err:
        load_table(path, what="reference")
    assert "reference" in _one_line_naming(err, path)


def test_folder_is_not_a_file(tmp_path):
    with pytest.raises(DataError, match="is a folder") as err:
        load_table(tmp_path)
    _one_line_naming(err, tmp_path)


@pytest.mark.parametrize("name", ["report.xlsx", "data.json", "no_suffix"])
def test_unknown_suffix_names_the_formats_to_use(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"a,b\n1,2\n")
    with pytest.raises(DataError, match="unknown format") as err:
        load_table(path)
    msg = _one_line_naming(err, path)
    assert "CSV" in msg and "Parquet" in msg


@pytest.mark.parametrize(
    "name, says", [("empty.csv", "is empty"), ("empty.parquet", "cannot be read as Parquet")]
)
def test_empty_file(tmp_path, name, says):
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(DataError, match=says) as err:
        load_table(path)
    _one_line_naming(err, path)


def test_garbage_bytes_in_a_parquet_file(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(DataError, match="cannot be read as Parquet") as err:
        load_table(path, what="current")
    assert "current" in _one_line_naming(err, path)


def test_truncated_parquet_file(tmp_path, adult):
    path = tmp_path / "truncated.parquet"
    adult.to_parquet(path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="cannot be read as Parquet") as err:
        load_table(path)
    _one_line_naming(err, path)


def test_binary_junk_in_a_csv_file(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(b"\xff\xfe\x00\x01" + np.random.default_rng(2).bytes(4096))
    with pytest.raises(DataError, match="cannot be read as CSV") as err:
        load_table(path)
    _one_line_naming(err, path)


def test_a_parquet_file_named_csv_is_refused(tmp_path, adult):
    path = tmp_path / "actually_parquet.csv"
    adult.to_parquet(path)
    with pytest.raises(DataError, match="cannot be read as CSV") as err:
        load_table(path)
    _one_line_naming(err, path)


def test_ragged_csv(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4,5,6\n")
    with pytest.raises(DataError, match="cannot be read as CSV") as err:
        load_table(path)
    _one_line_naming(err, path)


# -- fingerprint ------------------------------------------------------------------
def test_fingerprint_is_stable_across_reads(tmp_path, adult):
    csv, pq = tmp_path / "a.csv", tmp_path / "a.parquet"
    adult.to_csv(csv, index=False)
    adult.to_parquet(pq, index=False)
    assert fingerprint(load_table(csv)) == fingerprint(load_table(csv))
    assert fingerprint(load_table(pq)) == fingerprint(load_table(pq))
    fp = fingerprint(load_table(csv))
    assert fp["rows"] == 300 and fp["columns"] == adult.shape[1]
    assert len(fp["sha256"]) == 64


def test_fingerprint_ignores_the_index(adult):
    shifted = adult.set_axis(np.arange(len(adult)) + 1000)
    assert fingerprint(shifted) == fingerprint(adult)


def test_fingerprint_changes_when_one_value_changes(adult):
    base = fingerprint(adult)["sha256"]
    for col, value in [
        ("age", adult["age"].iloc[150] + 1),
        ("education", "Doctorate-x"),
        ("workclass", np.nan),
    ]:
        changed = adult.copy()
        changed.iloc[150, changed.columns.get_loc(col)] = value
        assert fingerprint(changed)["sha256"] != base, col


def test_fingerprint_changes_with_order_names_and_dtypes(adult):
    base = fingerprint(adult)["sha256"]
    assert fingerprint(adult.iloc[::-1])["sha256"] != base
    assert fingerprint(adult.rename(columns={"age": "Age"}))["sha256"] != base
    assert fingerprint(adult.astype({"age": "float64"}))["sha256"] != base
    assert fingerprint(adult.iloc[:-1])["sha256"] != base


def test_fingerprint_of_an_empty_table():
    fp = fingerprint(pd.DataFrame({"a": pd.Series([], dtype=float)}))
    assert fp["rows"] == 0 and fp["columns"] == 1
    assert fp != fingerprint(pd.DataFrame({"b": pd.Series([], dtype=float)}))


def test_parquet_text_of_every_arrow_kind_comes_back_as_the_same_categories(tmp_path):
    """Text read straight into dictionaries: plain, large and already-dictionary strings, with gaps."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    words = ["b", None, "a", "b", "c", None] * 50
    table = pa.table(
        {
            "plain": pa.array(words, pa.string()),
            "large": pa.array(words, pa.large_string()),
            "dict": pa.array(words, pa.string()).dictionary_encode(),
            "n": pa.array(range(len(words))),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    back = load_table(tmp_path / "t.parquet")
    for col in ("plain", "large", "dict"):
        assert isinstance(back[col].dtype, pd.CategoricalDtype), col
        assert back[col].astype(object).where(back[col].notna(), None).tolist() == words, col
    assert back["n"].tolist() == list(range(len(words)))


def test_the_reports_peek_knows_the_same_parquet_suffixes():
    from workbench.data.io import PARQUET_SUFFIXES
    from workbench.reports.compute import _PARQUET_SUFFIXES

    assert _PARQUET_SUFFIXES == PARQUET_SUFFIXES


# -- duplicate names, and reading some columns only ---------------------------------------------------
@pytest.mark.parametrize(
    "name, text", [("dup.csv", "age,sex,age\n30,F,31\n"), ("dup.tsv", "age\tsex\tage\n30\tF\t31\n")]
)
def test_duplicate_column_names_are_refused_not_renamed(tmp_path, name, text):
    """pandas would read the second 'age' as 'age.1' and every later stage would treat it as a new column."""
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DataError) as err:
        load_table(path, what="current data")
    assert _one_line_naming(err, path) == (
        f"the current data file '{path}' has duplicate column names: 'age'; "
        "every column needs a name of its own"
    )
    from workbench.reports.compute import peek_table

    with pytest.raises(DataError, match="duplicate column names: 'age'"):
        peek_table(path, "current data")


def test_blank_header_cells_are_not_duplicates(tmp_path, adult):
    path = tmp_path / "indexed.csv"
    adult.head(5).to_csv(path)  # the index column has a blank name: pandas calls it "Unnamed: 0"
    assert load_table(path).columns[0] == "Unnamed: 0"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_some_columns_only_are_typed_as_a_full_read_types_them(tmp_path, adult, suffix):
    path = tmp_path / f"t{suffix}"
    getattr(adult, "to_csv" if suffix == ".csv" else "to_parquet")(path, index=False)
    full = load_table(path)
    some = load_table(path, columns=["sex", "age", "income"])
    assert list(some.columns) == ["sex", "age", "income"]
    pd.testing.assert_frame_equal(some, full[["sex", "age", "income"]])
    with pytest.raises(DataError, match="has no column 'nope'"):
        load_table(path, columns=["age", "nope"])
