"""Papermill runs every notebook of the evaluation pipeline on small parameters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heysh.config import Settings
from heysh.errors import PipelineError
from heysh.research.pipeline import Pipeline, PipelineStep, load_pipeline, run_pipeline

pytestmark = pytest.mark.notebooks

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _outputs(notebook: Path) -> list[dict]:
    cells = json.loads(notebook.read_text())["cells"]
    return [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]


def test_committed_notebooks_have_parameters_cell_and_no_outputs() -> None:
    """Each notebook opens with a tagged parameters cell and is committed stripped."""
    assert len(NOTEBOOKS) >= 3
    for notebook in NOTEBOOKS:
        cells = json.loads(notebook.read_text())["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]

        assert "parameters" in code[0]["metadata"].get("tags", []), notebook.name
        assert not _outputs(notebook), f"{notebook.name} is committed with outputs"


def test_evaluation_pipeline_runs_every_notebook(
    heysh_env: Settings, tmp_path: Path
) -> None:
    """compare-models, tune-thresholds and promote all execute and produce results."""
    pipeline = load_pipeline(REPO / "pipelines" / "evaluation.yaml")

    result = run_pipeline(
        pipeline,
        tmp_path / "run",
        heysh_env,
        overrides={"max_documents": 200, "max_domains": 3},
    )

    assert [s.status for s in result.steps] == ["ok", "ok", "ok"]
    assert {s.name for s in result.steps} == {
        "compare-models",
        "tune-thresholds",
        "promote",
    }
    summary = json.loads((tmp_path / "run" / "work" / "summary.json").read_text())
    assert summary["registered"]["version"] == "1"
    compare_outputs = _outputs(result.steps[0].output_notebook)
    assert any("image/png" in o.get("data", {}) for o in compare_outputs)
    promote_text = "".join(
        "".join(o.get("text", "")) for o in _outputs(result.steps[2].output_notebook)
    )
    assert "PROMOTED: no 'production' version exists yet" in promote_text
    assert result.mlflow_run_id == summary["mlflow"]["parent_run_id"]


def test_failing_cell_is_named_and_the_executed_copy_kept(
    heysh_env: Settings, tmp_path: Path
) -> None:
    """A failing notebook stops the pipeline with the step, notebook and cell named."""
    pipeline = Pipeline(
        name="broken",
        steps=(
            PipelineStep(
                name="tune", notebook=REPO / "notebooks" / "tune-thresholds.ipynb"
            ),
        ),
    )

    with pytest.raises(
        PipelineError,
        match=r"step 'tune' failed: notebook "
        r"tune-thresholds.ipynb cell \d+ .*FileNotFoundError",
    ):
        run_pipeline(pipeline, tmp_path / "run", heysh_env)

    assert (tmp_path / "run" / "01-tune-thresholds.ipynb").is_file()
    runs = _pipeline_runs(heysh_env)
    assert [(r.info.status, r.data.tags["pipeline_status"]) for r in runs] == [
        ("FAILED", "failed")
    ]


def _pipeline_runs(settings: Settings) -> list:
    from mlflow import MlflowClient

    client = MlflowClient(settings.tracking_uri)
    experiment = client.get_experiment_by_name("heysh-pipelines")
    return client.search_runs([experiment.experiment_id])


def test_load_pipeline_rejects_undeclared_step_parameter(tmp_path: Path) -> None:
    """A step parameter its notebook does not declare is a configuration error."""
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\nsteps:\n  - name: promote\n"
        f"    notebook: {REPO / 'notebooks' / 'promote.ipynb'}\n"
        "    parameters: {dry_rnu: true}\n"
    )

    with pytest.raises(Exception, match="sets dry_rnu, which notebook"):
        load_pipeline(path)


def test_load_pipeline_missing_notebook_is_named(tmp_path: Path) -> None:
    """A step naming a notebook that does not exist fails at load time."""
    path = tmp_path / "p.yaml"
    path.write_text("name: p\nsteps:\n  - name: x\n    notebook: nope.ipynb\n")

    with pytest.raises(Exception, match=r"nope\.ipynb, which does not exist"):
        load_pipeline(path)
