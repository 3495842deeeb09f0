"""Two faulty specs (a parameter count that is not a number, a task aezoo does not know) beside a
good model and a faulty data set spec: only the faulty ones are skipped."""

from aezoo import CardData, DatasetSpec, ModelSpec, hookimpl


def _spec(name, **fields):
    base = dict(name=name, summary=f"{name} for tests", task="reconstruct", family="ae",
                builder="aezoo_test_badspec.plugin:nothing", config={}, card=CardData(license="mit"), params=0)
    base.update(fields)
    return ModelSpec(**base)


@hookimpl
def aezoo_register_models():
    return [_spec("bad-params-ae", params="many"), _spec("bad-task-ae", task="fly"), _spec("good-ae", params=10)]


@hookimpl
def aezoo_register_datasets():
    return [DatasetSpec(name="bad-kind", summary="", kind="sounds", loader="m:f", source="", offline=True)]
