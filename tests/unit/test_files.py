"""What a learner hands kjlab is read as data, and every bad input is one line."""

from pathlib import Path

import pytest
import yaml

from kjlab import examples, files
from kjlab.actions import ops
from kjlab.errors import KjlabError

JOB = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x\nspec: {}\n"


def _one_line(e):
    assert "\n" not in e.value.message
    return e.value.message


def test_a_manifest_file_is_read(tmp_path):
    (tmp_path / "job.txt").write_text(JOB)
    assert ops.load_manifest(str(tmp_path / "job.txt"))["metadata"]["name"] == "x"
    assert ops.load_manifest(tmp_path / "job.txt")["kind"] == "Job"


def test_a_missing_path_is_not_parsed_as_yaml(tmp_path):
    with pytest.raises(KjlabError) as e:
        ops.load_manifest("job.txt")
    assert _one_line(e) == "no such manifest file: job.txt"


@pytest.mark.parametrize("content,expected", [
    (b"\x7fELF\x02\x01\x01\x00\x00\x00", "is a binary file, not a manifest file"),
    ("kind: Job # caf\xe9\n".encode("latin-1"), "is not UTF-8 text"),
])
def test_binary_and_latin1_files(tmp_path, content, expected):
    path = tmp_path / "job.yaml"
    path.write_bytes(content)
    with pytest.raises(KjlabError) as e:
        ops.load_manifest(str(path))
    assert expected in _one_line(e)


def test_a_directory(tmp_path):
    with pytest.raises(KjlabError) as e:
        ops.load_manifest(str(tmp_path))
    assert _one_line(e).endswith("is a directory, not a manifest file")


def test_a_file_too_large(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(JOB + "#" * files.MAX_BYTES)
    with pytest.raises(KjlabError) as e:
        ops.load_manifest(str(path))
    assert "a manifest file is at most 1024 KiB" in _one_line(e)


def test_a_yaml_bomb_is_refused_before_it_expands():
    # Nine levels of nine aliases: only 72 aliases, but 9^9 nodes once expanded.
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f'{chr(98 + i)}: &{chr(98 + i)} [' + ",".join([f"*{chr(97 + i)}"] * 9) + ']\n' for i in range(8))
    with pytest.raises(KjlabError) as e:
        ops.load_manifest(bomb)
    assert "expands to more than 10000 YAML nodes" in _one_line(e)


def test_an_alias_inside_itself_is_refused():
    with pytest.raises(KjlabError) as e:
        ops.load_manifest("kind: Job\napiVersion: v1\nspec: &s [*s]\n")
    assert "refers to itself" in _one_line(e)


def test_a_few_aliases_are_fine():
    doc = ops.load_manifest("apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\n"
                            "spec: {template: {metadata: {labels: &l {app: x}}, spec: {}}, selector: {matchLabels: *l}}\n")
    assert doc["spec"]["selector"]["matchLabels"] == {"app": "x"}


def test_tags_that_build_python_objects_are_refused():
    with pytest.raises(KjlabError) as e:
        ops.load_manifest("kind: !!python/object/apply:os.system ['id']\napiVersion: v1\n")
    assert "is not valid YAML" in _one_line(e)


def test_a_scalar_is_not_an_object():
    with pytest.raises(KjlabError) as e:
        ops.load_manifest("just some words\nover two lines\n")
    assert _one_line(e) == "the manifest is a YAML str, not a Kubernetes object"


def test_bad_yaml_names_the_line():
    with pytest.raises(KjlabError) as e:
        ops.load_manifest("kind: Job\n  metadata: x\n bad")
    assert "(line 2, column" in _one_line(e)


def test_a_yaml_error_names_the_line_and_shows_it():
    import yaml

    from kjlab.files import yaml_problem

    text = "rules:\n- action: FailJob\n  onExitCodes\n    operator: In\n"
    try:
        yaml.safe_load(text)
    except yaml.YAMLError as e:
        where = yaml_problem(e, text)
    assert where.startswith(" (line 4, column 13: `    operator: In`)"), where


@pytest.mark.parametrize("field,value,kind", [("metadata", "x", "str"), ("spec", "[1]", "list"), ("spec", "7", "int")])
def test_a_manifest_whose_metadata_or_spec_is_not_a_mapping_is_one_line(field, value, kind):
    fields = {"metadata": "{name: x}", "spec": "{template: {}}"}
    fields[field] = value
    text = f"apiVersion: batch/v1\nkind: Job\nmetadata: {fields['metadata']}\nspec: {fields['spec']}\n"
    with pytest.raises(KjlabError) as e:
        ops.load_manifest(text)
    assert e.value.message.startswith(f"the manifest's {field} is a {kind} (")


def test_every_shipped_manifest_loads_through_the_one_loader():
    """examples.objects is how labs read kjlab/examples: each file's objects, in order, the same as a
    plain YAML read of the file on disk, each a Kubernetes object with a kind and a name."""
    shipped = sorted(Path(examples.__file__).parent.glob("*.yaml"))
    assert len(shipped) >= 20
    for path in shipped:
        loaded = examples.objects(path.name)
        assert loaded == [d for d in yaml.safe_load_all(path.read_text()) if d is not None], path.name
        assert loaded and all(d.get("apiVersion") and d.get("kind") and d["metadata"].get("name") for d in loaded), path.name


def test_one_loader_for_a_learners_manifest_and_the_shipped_ones(monkeypatch):
    from kjlab import manifests

    assert ops.load_manifest is manifests.load  # the old name, kept for one release
    two = JOB + "---\n" + JOB.replace("name: x", "name: y")
    assert [d["metadata"]["name"] for d in manifests.load(two, one=False)] == ["x", "y"]
    with pytest.raises(KjlabError) as e:
        manifests.load(two)
    assert _one_line(e) == "expected one Kubernetes object in the manifest, found 2"
    # a shipped file is checked object by object, as a learner's is
    monkeypatch.setattr(examples, "packaged", lambda file: JOB + "---\n" + JOB.replace("  name: x\n", ""))
    with pytest.raises(KjlabError) as e:
        examples.objects("broken.yaml")
    assert _one_line(e) == "the broken.yaml needs apiVersion, kind and metadata.name"
