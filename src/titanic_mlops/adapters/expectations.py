"""The Great Expectations 1.x adapter, the only module that imports it: the passenger contract
(`domain.schema`) as an expectation suite, run on a frame, summarised as a `ValidationReport`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from titanic_mlops.domain import schema
from titanic_mlops.domain.params import IngestParams, ValidateParams
from titanic_mlops.domain.stage_outputs import ValidationReport

SUITE_NAME = "raw_passengers"
_STRING_TYPES = ["str", "string", "StringDtype", "object"]
_TYPE_NAMES = {
    "int64": ["int64", "Int64"],
    "float64": ["float64", "Float64"],
    "string": _STRING_TYPES,
}


def build_expectations(rules: ValidateParams, limits: IngestParams, labelled: bool) -> list[Any]:
    """The whole contract in one list: columns, types, categories, ranges, nulls, keys, size."""
    import great_expectations as gx

    e: Any = gx.expectations  # re-exported lazily, untyped for mypy
    dtypes = dict(schema.RAW_DTYPES)
    if labelled:
        dtypes[schema.LABEL] = schema.LABEL_DTYPE
    out: list[Any] = []
    for column, dtype in dtypes.items():
        out.append(e.ExpectColumnToExist(column=column))
        out.append(e.ExpectColumnValuesToBeInTypeList(column=column, type_list=_TYPE_NAMES[dtype]))
    for column, allowed in schema.ALLOWED_VALUES.items():
        if column in dtypes:
            out.append(e.ExpectColumnValuesToBeInSet(column=column, value_set=list(allowed)))
    for column, (low, high) in schema.BOUNDS.items():
        out.append(e.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high))
    for column in (c for c, dtype in schema.RAW_DTYPES.items() if dtype == "string"):
        out.append(e.ExpectColumnValueLengthsToBeBetween(column=column, max_value=schema.MAX_TEXT))
    for column in schema.REQUIRED_NON_NULL + ((schema.LABEL,) if labelled else ()):
        out.append(e.ExpectColumnValuesToNotBeNull(column=column))
    for column, budget in rules.max_null_fraction.items():
        out.append(e.ExpectColumnValuesToNotBeNull(column=column, mostly=round(1.0 - budget, 6)))
    out.append(e.ExpectColumnValuesToBeUnique(column=schema.ID))
    out.append(e.ExpectTableRowCountToBeBetween(min_value=limits.min_rows, max_value=limits.max_rows))
    return out


def validate_frame(
    frame: pd.DataFrame,
    rules: ValidateParams,
    limits: IngestParams,
    labelled: bool,
    docs_dir: Path | None = None,
) -> ValidationReport:
    """Run the suite on a frame; with `docs_dir`, also render Great Expectations data docs."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    if docs_dir is not None:
        context.add_data_docs_site(
            site_name="local",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir.resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    asset = context.data_sources.add_pandas("pandas").add_dataframe_asset(name="passengers")
    batch_definition = asset.add_batch_definition_whole_dataframe("all_rows")
    suite = context.suites.add(gx.ExpectationSuite(name=SUITE_NAME))
    for expectation in build_expectations(rules, limits, labelled):
        suite.add_expectation(expectation)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="raw_passengers", data=batch_definition, suite=suite)
    )
    checkpoint_api: Any = gx.checkpoint
    actions: list[Any] = [checkpoint_api.UpdateDataDocsAction(name="data_docs")] if docs_dir else []
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name="validate",
            validation_definitions=[definition],
            actions=actions,
            result_format="SUMMARY",
        )
    )
    run = checkpoint.run(batch_parameters={"dataframe": frame})
    return _summarise(next(iter(run.run_results.values())), rows=len(frame))


def _summarise(run_result: Any, rows: int) -> ValidationReport:
    failures: list[str] = []
    details: list[dict[str, Any]] = []
    for result in run_result.results:
        config = result.expectation_config
        column = config.kwargs.get("column", "<table>")
        observed = {
            key: result.result[key]
            for key in ("unexpected_count", "unexpected_percent", "observed_value")
            if key in result.result
        }
        examples = [_plain(v) for v in result.result.get("partial_unexpected_list", []) if not pd.isna(v)][:5]
        detail = {"expectation": config.type, "column": column, "success": bool(result.success)}
        detail.update(observed)
        if examples:
            detail["examples"] = examples
        details.append(detail)
        if not result.success:
            failures.append(_describe(config.type, column, observed, examples))
    return ValidationReport(
        suite=SUITE_NAME,
        success=not failures,
        evaluated_expectations=len(details),
        failed_expectations=len(failures),
        failures=failures,
        rows=rows,
        results=details,
    )


def _describe(kind: str, column: str, observed: dict[str, Any], examples: list[Any]) -> str:
    text = f"{kind} failed on column {column}"
    if "unexpected_count" in observed:
        text += f": {observed['unexpected_count']} unexpected row(s)"
    elif "observed_value" in observed:
        text += f": observed {observed['observed_value']!r}"
    if examples:
        text += f", e.g. {examples}"
    return text


def _plain(value: Any) -> Any:
    """numpy scalars -> Python values, so the report serialises as JSON."""
    return value.item() if hasattr(value, "item") else value
