"""Network files: the documented layout parses, dumps round-trip, and every bad file gives
one clear line (NetworkFileError) rather than a traceback."""

from __future__ import annotations

import copy
import itertools
import json
import math
import random

import numpy as np
import pytest
from backprop_tui.netfile import NetworkFileError, dump_network, load_network, parse_network
from backprop_tui.network import MAX_LAYERS, MAX_UNITS, Network, frozen

TUTORIAL = """\
learning_rate = 0.5            # > 0 and finite; default 0.5
loss = "half_sse"              # "half_sse" or "mse"; default half_sse
update_biases = false          # bool; default false
update_order = "after_backward"   # or "during_backward"; default after_backward
inputs = [0.05, 0.10]          # required, non-empty list of numbers
targets = [0.01, 0.99]         # required, one per unit of the last layer

[[layer]]                      # one [[layer]] per layer after the inputs, output layer last
weights = [[0.15, 0.20], [0.25, 0.30]]
bias = 0.35
activation = "sigmoid"

[[layer]]
weights = [[0.40, 0.45], [0.50, 0.55]]
bias = 0.60
"""

MINIMAL = """\
inputs = [1, 2]
targets = [0.5]

[[layer]]
weights = [[3, 4]]
"""


def edited(old: str, new: str, document: str = TUTORIAL) -> str:
    assert old in document, old
    return document.replace(old, new, 1)


def problem(text: str | bytes, source: str = "net.toml") -> str:
    """The message parse_network gives for a bad file, checked to be one line from `source`."""
    with pytest.raises(NetworkFileError) as caught:
        parse_network(text, source)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message, message
    assert message.startswith(f"{source}: "), message
    return message


def assert_same(a: Network, b: Network) -> None:
    """Bit-for-bit equal arrays (so -0.0 and the last ulp count) and equal options."""
    assert a.depth == b.depth
    pairs = [(a.inputs, b.inputs), (a.targets, b.targets), *zip(a.weights, b.weights, strict=True),
             *zip(a.biases, b.biases, strict=True)]
    for x, y in pairs:
        assert x.shape == y.shape and x.dtype == y.dtype == np.float64
        assert x.tobytes() == y.tobytes()
    assert a.activations == b.activations
    assert a.options() == b.options()


# --- valid files ---------------------------------------------------------------------------


def test_tutorial_file_parses_to_the_tutorial_network() -> None:
    net = parse_network(TUTORIAL, "net.toml")
    assert net.inputs.tolist() == [[0.05, 0.10]]
    assert net.targets.tolist() == [[0.01, 0.99]]
    assert [w.tolist() for w in net.weights] == [[[0.15, 0.20], [0.25, 0.30]],
                                                 [[0.40, 0.45], [0.50, 0.55]]]
    assert [b.tolist() for b in net.biases] == [[0.35], [0.60]]
    assert net.shared(0) and net.shared(1)
    assert net.activations == ("sigmoid", "sigmoid")
    assert net.options() == {"learning_rate": 0.5, "loss": "half_sse", "update_biases": False,
                             "update_order": "after_backward", "rounding": 0}
    assert net.sizes == (2, 2, 2)
    for array in (net.inputs, net.targets, *net.weights, *net.biases):
        assert array.dtype == np.float64 and not array.flags.writeable


def test_defaults_apply_and_integers_count_as_numbers() -> None:
    net = parse_network(MINIMAL.encode(), "net.toml")
    assert net.options() == {"learning_rate": 0.5, "loss": "half_sse", "update_biases": False,
                             "update_order": "after_backward", "rounding": 0}
    assert net.activations == ("sigmoid",)
    assert net.biases[0].shape == (1,) and net.biases[0][0] == 0.0
    assert net.weights[0].tolist() == [[3.0, 4.0]] and net.weights[0].dtype == np.float64


def test_options_bias_lists_and_other_activations() -> None:
    text = edited('bias = 0.60\n', 'bias = [1, -2]\nactivation = "linear"\n')
    text = edited('activation = "sigmoid"', 'activation = "tanh"', text)
    text = edited('loss = "half_sse"', 'loss = "mse"', text)
    text = edited("update_biases = false", "update_biases = true", text)
    text = edited('"after_backward"', '"during_backward"', text)
    text = edited("learning_rate = 0.5", "learning_rate = 2", text)
    net = parse_network(text, "net.toml")
    assert net.biases[1].tolist() == [1.0, -2.0] and not net.shared(1)
    assert net.activations == ("tanh", "linear")
    assert net.options() == {"learning_rate": 2.0, "loss": "mse", "update_biases": True,
                             "update_order": "during_backward", "rounding": 0}


def test_utf8_byte_order_mark_is_accepted() -> None:
    net = parse_network(b"\xef\xbb\xbf" + TUTORIAL.encode(), "net.toml")
    assert net.sizes == (2, 2, 2)


def test_dump_then_parse_round_trips_the_tutorial() -> None:
    net = parse_network(TUTORIAL, "net.toml")
    assert_same(parse_network(dump_network(net), "dumped"), net)


def test_dump_then_parse_round_trips_awkward_floats_and_options() -> None:
    net = Network(
        inputs=frozen([0.1 + 0.2, -0.0, 5e-324]),
        targets=frozen([1e308, -1.7976931348623157e308]),
        weights=(frozen(np.arange(12).reshape(4, 3) / 7), frozen([[1 / 3, 2e-9, -1e22, 7.0]] * 2)),
        biases=(frozen([math.pi, -math.e, 0.0, 1e-300]), frozen([123456789.123456789])),
        activations=("relu", "linear"),
        learning_rate=1e-5,
        loss="mse",
        update_biases=True,
        update_order="during_backward",
    )
    text = dump_network(net)
    assert "[[layer]]" in text
    assert_same(parse_network(text, "dumped"), net)
    assert dump_network(parse_network(text, "dumped")) == text


def test_load_network_reads_a_file(tmp_path) -> None:
    path = tmp_path / "net.toml"
    path.write_text(TUTORIAL, encoding="utf-8")
    assert_same(load_network(path), parse_network(TUTORIAL, "x"))
    assert_same(load_network(str(path)), parse_network(TUTORIAL, "x"))


# --- unreadable files -----------------------------------------------------------------------


def test_missing_file_names_the_path_and_the_os_reason(tmp_path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(NetworkFileError) as caught:
        load_network(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "No such file" in message and "\n" not in message


def test_directory_is_refused_with_the_os_reason(tmp_path) -> None:
    with pytest.raises(NetworkFileError) as caught:
        load_network(tmp_path)
    message = str(caught.value)
    assert message.startswith(str(tmp_path)) and "directory" in message and "\n" not in message


def test_load_network_errors_name_the_path_as_given(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(edited("bias = 0.35", "bias = true"), encoding="utf-8")
    with pytest.raises(NetworkFileError, match=r"bad\.toml: layer 1, key 'bias'"):
        load_network(path)


def test_source_is_used_verbatim() -> None:
    assert "preset 'mazur': key 'inputs'" in problem(
        edited("inputs = [0.05, 0.10]", "inputs = 1"), "preset 'mazur'"
    )


def test_invalid_utf8_names_the_byte_offset() -> None:
    data = TUTORIAL.encode()
    offset = data.index(b"0.35")
    message = problem(data[:offset] + b"\xff" + data[offset:])
    assert "UTF-8" in message and f"offset {offset}" in message and "0xff" in message


def test_toml_syntax_error_carries_line_and_column() -> None:
    message = problem(edited("bias = 0.35", "bias = = 0.35"))
    assert "invalid TOML" in message and "line 10" in message and "column" in message


def test_toml_oddities_tomllib_does_not_wrap() -> None:
    assert "invalid TOML" in problem("x = " + "1" * 5000)
    assert "nested too deeply" in problem("x = " + "[" * 5000 + "]" * 5000)


# --- required keys and layer tables --------------------------------------------------------


@pytest.mark.parametrize("line", ["inputs = [0.05, 0.10]", "targets = [0.01, 0.99]"])
def test_missing_required_top_level_key(line: str) -> None:
    key = line.split()[0]
    message = problem(edited(line, ""))
    assert f"key '{key}'" in message and "missing" in message


def test_missing_layers() -> None:
    message = problem(TUTORIAL.split("[[layer]]")[0])
    assert "key 'layer'" in message and "missing" in message


def test_missing_layer_weights() -> None:
    message = problem(edited("weights = [[0.40, 0.45], [0.50, 0.55]]", ""))
    assert "layer 2, key 'weights'" in message and "missing" in message


def test_empty_layer_list() -> None:
    message = problem(MINIMAL.split("[[layer]]")[0] + "layer = []\n")
    assert "key 'layer'" in message and "at least one" in message


@pytest.mark.parametrize(
    ("layer", "got"),
    [("layer = 3", "a number"), ("layer = [1]", "item 1 is a number"),
     ("[layer]\nweights = [[3, 4]]", "[[layer]]")],
)
def test_layer_must_be_an_array_of_tables(layer: str, got: str) -> None:
    message = problem(MINIMAL.split("[[layer]]")[0] + layer + "\n")
    assert "key 'layer'" in message and "array of [[layer]] tables" in message and got in message


# --- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "where", "got"),
    [
        ("inputs = [0.05, 0.10]", "inputs = [0.05, true]", "key 'inputs', item 2", "a boolean"),
        ("inputs = [0.05, 0.10]", 'inputs = ["0.05", 0.1]', "key 'inputs', item 1", "a string"),
        ("targets = [0.01, 0.99]", "targets = [nan, 0.99]", "key 'targets', item 1", "nan"),
        ("bias = 0.35", "bias = inf", "layer 1, key 'bias'", "inf"),
        ("bias = 0.35", "bias = false", "layer 1, key 'bias'", "a boolean"),
        ("[0.50, 0.55]", "[0.50, -inf]", "layer 2, key 'weights', row 2, column 2", "-inf"),
        ("bias = 0.60", "bias = [0.6, 1e400]", "layer 2, key 'bias', item 2", "inf"),
        ("bias = 0.60", "bias = " + "9" * 400, "layer 2, key 'bias'", "inf"),
        ("bias = 0.60", "bias = 1979-05-27", "layer 2, key 'bias'", "a date or time"),
        ("learning_rate = 0.5", "learning_rate = true", "key 'learning_rate'", "a boolean"),
        ("learning_rate = 0.5", "learning_rate = nan", "key 'learning_rate'", "nan"),
    ],
)
def test_non_numbers_and_non_finite_numbers(old: str, new: str, where: str, got: str) -> None:
    message = problem(edited(old, new))
    assert f"{where}: expected a" in message and got in message


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("inputs = [0.05, 0.10]", "inputs = 0.05", "key 'inputs'"),
        ("inputs = [0.05, 0.10]", "inputs = [[0.05, [0.10]]]", "key 'inputs', row 1, item 2"),
        ("weights = [[0.15, 0.20], [0.25, 0.30]]", "weights = [0.15, 0.20]",
         "layer 1, key 'weights', row 1"),
        ("weights = [[0.15, 0.20], [0.25, 0.30]]", "weights = 0.15", "layer 1, key 'weights'"),
        ("[0.25, 0.30]", "[0.25, [0.30]]", "layer 1, key 'weights', row 2, column 2"),
        ("[0.25, 0.30]", '{a = 1}', "layer 1, key 'weights', row 2"),
        ("bias = 0.35", "bias = [[0.35, 0.35]]", "layer 1, key 'bias', item 1"),
    ],
)
def test_nested_wrong_types(old: str, new: str, where: str) -> None:
    assert f"{where}: expected a" in problem(edited(old, new))


# --- shapes --------------------------------------------------------------------------------


def test_ragged_rows() -> None:
    message = problem(edited("[0.25, 0.30]", "[0.25, 0.30, 0.1]"))
    assert "layer 1, key 'weights', row 2" in message and "same length" in message


def test_columns_must_match_the_inputs() -> None:
    message = problem(edited("inputs = [0.05, 0.10]", "inputs = [0.05, 0.10, 0.2]"))
    assert "layer 1, key 'weights'" in message and "3 columns (one per input)" in message


def test_columns_must_match_the_layer_before() -> None:
    message = problem(edited("[[0.40, 0.45], [0.50, 0.55]]", "[[0.40], [0.50]]"))
    assert "layer 2, key 'weights'" in message and "2 columns (one per unit of layer 1)" in message


def test_targets_must_match_the_output_layer() -> None:
    message = problem(edited("targets = [0.01, 0.99]", "targets = [0.01]"))
    assert "key 'targets'" in message and "expected 2 numbers" in message and "got 1" in message


def test_bias_list_of_the_wrong_length() -> None:
    message = problem(edited("bias = 0.35", "bias = [0.35, 0.35, 0.35]"))
    assert "layer 1, key 'bias'" in message and "list of 2" in message
    assert "got a list of 3" in message


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("inputs = [0.05, 0.10]", "inputs = []", "key 'inputs'"),
        ("targets = [0.01, 0.99]", "targets = []", "key 'targets'"),
        ("[[0.15, 0.20], [0.25, 0.30]]", "[]", "layer 1, key 'weights'"),
        ("[[0.15, 0.20], [0.25, 0.30]]", "[[0.15, 0.20], []]", "layer 1, key 'weights', row 2"),
        ("bias = 0.35", "bias = []", "layer 1, key 'bias'"),
    ],
)
def test_empty_lists_and_rows(old: str, new: str, where: str) -> None:
    message = problem(edited(old, new))
    assert f"{where}: expected a non-empty list" in message and "got []" in message


# --- names and options ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key", "allowed"),
    [
        ('activation = "sigmoid"', 'activation = "softmax2"', "layer 1, key 'activation'",
         "'sigmoid', 'tanh', 'relu', 'linear'"),
        ('activation = "sigmoid"', "activation = 1", "layer 1, key 'activation'", "'sigmoid'"),
        ('loss = "half_sse"', 'loss = "crossentropy"', "key 'loss'",
         "'half_sse', 'mse', 'cross_entropy'"),
        ('"after_backward"', '"before"', "key 'update_order'",
         "'after_backward', 'during_backward'"),
    ],
)
def test_unknown_names_list_the_allowed_ones(old: str, new: str, key: str, allowed: str) -> None:
    message = problem(edited(old, new))
    assert key in message and allowed in message


def test_update_biases_must_be_a_bool() -> None:
    message = problem(edited("update_biases = false", 'update_biases = "yes"'))
    assert "key 'update_biases'" in message and "true or false" in message


@pytest.mark.parametrize("rate", ["0", "-0.5", "inf"])
def test_learning_rate_must_be_positive_and_finite(rate: str) -> None:
    message = problem(edited("learning_rate = 0.5", f"learning_rate = {rate}"))
    assert "key 'learning_rate'" in message and ("> 0" in message or "finite" in message)


# --- unknown and misplaced keys ------------------------------------------------------------


@pytest.mark.parametrize("key", ["eta", "print"])
def test_unknown_top_level_key_lists_the_known_ones(key: str) -> None:
    message = problem(f"{key} = true\n" + TUTORIAL)
    assert f"key '{key}'" in message and "unknown" in message
    assert ("learning_rate, loss, update_biases, update_order, rounding, batch, batch_loss, "
            "optimizer, momentum, beta1, beta2, epsilon, inputs, targets, layer, "
            "printed") in message


@pytest.mark.parametrize("key", ["learning_rate", "loss", "update_biases", "update_order",
                                 "inputs", "targets"])
def test_top_level_key_after_a_layer_header_says_to_move_it(key: str) -> None:
    line = next(line for line in TUTORIAL.splitlines() if line.startswith(key))
    message = problem(edited(line + "\n", "") + line + "\n")
    assert f"layer 2, key '{key}'" in message and "above the first [[layer]]" in message


def test_unknown_layer_key_lists_the_known_ones() -> None:
    message = problem(edited("bias = 0.35", "bias = 0.35\nbaias = 1"))
    assert "layer 1, key 'baias'" in message and "weights, bias, activation" in message


def test_keys_are_quoted_safely_on_one_line() -> None:
    assert "key 'a\\nb'" in problem('"a\\nb" = 1\n' + TUTORIAL)


# --- limits --------------------------------------------------------------------------------


def layered(units: list[int]) -> str:
    """A valid file with the given unit counts, inputs first."""
    lines = [f"inputs = {[0.5] * units[0]}", f"targets = {[0.5] * units[-1]}"]
    for before, after in itertools.pairwise(units):
        lines += ["[[layer]]", f"weights = {[[0.1] * before] * after}"]
    return "\n".join(lines) + "\n"


def test_limits_themselves_are_accepted() -> None:
    net = parse_network(layered([MAX_UNITS] * (MAX_LAYERS + 1)), "net.toml")
    assert net.depth == MAX_LAYERS and net.sizes == (MAX_UNITS,) * (MAX_LAYERS + 1)


def test_too_many_layers() -> None:
    message = problem(layered([2] * (MAX_LAYERS + 2)))
    assert "key 'layer'" in message and f"at most {MAX_LAYERS} layers" in message


def test_too_many_inputs() -> None:
    message = problem(layered([MAX_UNITS + 1, 2]))
    assert "key 'inputs'" in message and f"at most {MAX_UNITS}" in message


def test_too_many_units_in_a_layer() -> None:
    message = problem(layered([2, MAX_UNITS + 1, 2]))
    assert "layer 1, key 'weights'" in message and f"at most {MAX_UNITS} units" in message


# --- seeded sweep --------------------------------------------------------------------------

DOCUMENT = {
    "learning_rate": 0.5, "loss": "half_sse", "update_biases": False,
    "update_order": "after_backward", "inputs": [0.05, 0.10], "targets": [0.01, 0.99],
    "layer": [
        {"weights": [[0.15, 0.20], [0.25, 0.30]], "bias": 0.35, "activation": "sigmoid"},
        {"weights": [[0.40, 0.45], [0.50, 0.55]], "bias": 0.60},
    ],
}
ODD_VALUES = [math.nan, math.inf, -math.inf, 1e308, -1e308, True, False, "x", "tanh", 0, -1, 3,
              [], [[]], {}, [1.0], [[1.0, 2.0]], [True], ["x"], [math.nan, 1.0], 10**30,
              [0.5] * (MAX_UNITS + 1)]


def render(value: object) -> str:
    """TOML for a test document; unlike dump_network it writes any value, even nan or a dict."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else {math.inf: "inf", -math.inf: "-inf"}.get(
            value, repr(value))
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {render(v)}" for k, v in value.items()) + "}"
    return repr(value)


def render_document(document: dict) -> str:
    layers = document.get("layer")
    tables = isinstance(layers, list) and all(isinstance(t, dict) for t in layers) and layers
    lines = [f"{k} = {render(v)}" for k, v in document.items() if not (tables and k == "layer")]
    for table in layers if tables else []:
        lines += ["[[layer]]", *(f"{k} = {render(v)}" for k, v in table.items())]
    return "\n".join(lines) + "\n"


def containers(value: object, found: list) -> list:
    """Every dict and list inside value (value included), for picking a mutation site."""
    if isinstance(value, dict | list):
        found.append(value)
        for child in value.values() if isinstance(value, dict) else value:
            containers(child, found)
    return found


def mutate_structure(document: dict, rng: random.Random) -> None:
    site = rng.choice(containers(document, []))
    keys = list(site) if isinstance(site, dict) else list(range(len(site)))
    if not keys:
        return
    key = rng.choice(keys)
    action = rng.choice(["delete", "odd", "odd", "wrap", "duplicate", "unwrap"])
    if action == "delete":
        del site[key]
    elif action == "odd":
        site[key] = copy.deepcopy(rng.choice(ODD_VALUES))
    elif action == "wrap":
        site[key] = [site[key]]
    elif action == "duplicate" and isinstance(site, list):
        site.insert(key, copy.deepcopy(site[key]))
    elif action == "unwrap" and isinstance(site[key], list) and site[key]:
        site[key] = site[key][0]


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    action = rng.choice(["truncate", "invalid_utf8", "swap_lines", "drop_char"])
    offset = rng.randrange(len(data) + 1)
    if action == "truncate":
        return data[:offset]
    if action == "invalid_utf8":
        bad = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80"])
        return data[:offset] + bad + data[offset:]
    if action == "swap_lines":
        lines = data.split(b"\n")
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    return data[:offset] + data[offset + 1:]


def test_seeded_sweep_either_parses_or_gives_one_line() -> None:
    rng = random.Random(0)
    outcomes = {"parsed": 0, "refused": 0}
    for case in range(1200):
        document = copy.deepcopy(DOCUMENT)
        for _ in range(rng.randint(1, 3)):
            mutate_structure(document, rng)
        data = render_document(document).encode()
        if case % 3 == 0:
            data = mutate_bytes(TUTORIAL.encode(), rng)
        try:
            net = parse_network(data if case % 2 else data.decode("utf-8", "replace"), "fuzz")
        except NetworkFileError as error:
            message = str(error)
            assert message.startswith("fuzz: ") and "\n" not in message, (case, message)
            outcomes["refused"] += 1
        else:
            assert net.targets.shape[1] == net.sizes[-1]
            for before, w, b in zip(net.sizes[:-1], net.weights, net.biases, strict=True):
                assert w.shape[1] == before and b.shape in ((1,), (w.shape[0],))
            assert np.isfinite(
                np.concatenate([net.inputs.ravel(), *map(np.ravel, net.weights)])).all()
            assert_same(parse_network(dump_network(net), "dumped"), net)
            outcomes["parsed"] += 1
    assert outcomes["parsed"] > 50 and outcomes["refused"] > 500, outcomes


# --- several examples ----------------------------------------------------------------------

XOR = """\
learning_rate = 0.5
update_biases = true
inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
targets = [[0], [1], [1], [0]]
batch = "full"
batch_loss = "mean"

[[layer]]
weights = [[0.5, -0.4], [-0.6, 0.7]]
bias = [0.1, -0.1]

[[layer]]
weights = [[0.8, -0.75]]
bias = [0.05]
"""
XOR_INPUTS = "inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]"
XOR_TARGETS = "targets = [[0], [1], [1], [0]]"
MANY = "inputs = [" + ", ".join(["[0, 1]"] * 257) + "]\ntargets = [" + ", ".join(
    ["[1]"] * 257) + "]"


def test_rows_of_examples_and_the_batch_options_parse() -> None:
    net = parse_network(XOR, "xor.toml")
    assert net.inputs.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert net.targets.tolist() == [[0], [1], [1], [0]]
    assert (net.examples, net.batch, net.batch_loss, net.batch_size) == (4, "full", "mean", 4)
    assert net.listed == (True, True)  # bias = [0.05] stays a list
    assert_same(parse_network(dump_network(net), "dumped"), net)
    assert "bias = [0.05]" in dump_network(net)
    for batch, size in (('"online"', 1), ("1", 1), ("3", 3), ("4", 4)):
        found = parse_network(edited('batch = "full"', f"batch = {batch}", XOR), "xor.toml")
        assert found.batch_size == size
    limit = MANY.replace(", [0, 1]]", "]").replace(", [1]]", "]")  # 256 of each
    at_limit = parse_network(edited(XOR_INPUTS + "\n" + XOR_TARGETS, limit, XOR), "x.toml")
    assert at_limit.examples == 256


@pytest.mark.parametrize(("old", "new", "expected"), [
    (XOR_INPUTS, "inputs = [[0, 0], [0, 1, 2], [1, 0], [1, 1]]",
     "key 'inputs', row 2: has 3 numbers but row 1 has 2"),
    (XOR_INPUTS, "inputs = [[0, 0], [0, 1], [1, 0], [1]]",
     "key 'inputs', row 4: has 1 numbers but row 1 has 2"),
    (XOR_INPUTS, "inputs = [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]]",
     "layer 1, key 'weights': expected 3 columns (one per input), got 2"),
    (XOR_INPUTS, "inputs = [[0, 0], 1, [1, 0], [1, 1]]",
     "key 'inputs', row 2: expected a non-empty list of numbers, got a number"),
    (XOR_INPUTS, "inputs = [[0, 0], [0, true], [1, 0], [1, 1]]",
     "key 'inputs', row 2, item 2: expected a number, got a boolean"),
    (XOR_TARGETS, "targets = [[0], [1, 2], [1], [0]]",
     "key 'targets', row 2: has 2 numbers but row 1 has 1"),
    (XOR_TARGETS, "targets = [[0, 1], [1, 0], [1, 0], [0, 1]]",
     "key 'targets', row 1: expected 1 numbers (one per unit of the output layer"),
    (XOR_TARGETS, "targets = [[0], [1], [1]]",
     "key 'targets': expected 4 rows (one per example, as 'inputs' has), got 3"),
    (XOR_TARGETS, "targets = [[0], [1], [1], [0], [1]]",
     "key 'targets': expected 4 rows (one per example, as 'inputs' has), got 5"),
    (XOR_TARGETS, "targets = [0]",
     "key 'targets': expected 4 rows (one per example, as 'inputs' has), got 1"),
    ('batch = "full"', "batch = 0",
     "key 'batch': expected a whole number of examples from 1 to 4 (the examples given), got 0"),
    ('batch = "full"', "batch = 5",
     "key 'batch': expected a whole number of examples from 1 to 4 (the examples given), got 5"),
    ('batch = "full"', 'batch = "bogus"',
     "key 'batch': expected \"online\", \"full\" or a whole number of examples from 1 to 4, "
     "got 'bogus'"),
    ('batch = "full"', "batch = 2.5",
     "key 'batch': expected \"online\", \"full\" or a whole number of examples from 1 to 4, "
     "got a number"),
    ('batch = "full"', "batch = true",
     "key 'batch': expected \"online\", \"full\" or a whole number of examples from 1 to 4, "
     "got a boolean"),
    ('batch_loss = "mean"', 'batch_loss = "bogus"',
     "key 'batch_loss': expected one of 'mean', 'sum', got 'bogus'"),
    ('batch_loss = "mean"', "batch_loss = 1",
     "key 'batch_loss': expected one of 'mean', 'sum', got a number"),
    (XOR_INPUTS + "\n" + XOR_TARGETS, MANY,
     "key 'inputs': at most 256 examples are supported, got 257 rows"),
    ('batch = "full"', 'batch = "full"\nupdate_order = "during_backward"',
     "key 'update_order': \"during_backward\" needs batches of one example"),
    ('batch = "full"', 'batch = 2\nupdate_order = "during_backward"',
     "key 'update_order': \"during_backward\" needs batches of one example"),
])
def test_bad_examples_and_batch_options_are_one_line(old: str, new: str, expected: str) -> None:
    message = problem(edited(old, new, XOR))
    assert message == f"net.toml: {expected}" or message.startswith(f"net.toml: {expected}"), \
        message


def test_a_float_is_named_a_number_everywhere() -> None:
    """(A float is read as a subclass that keeps its text; it is still 'a number'.)"""
    message = problem(edited("update_biases = false", "update_biases = 2.5"))
    assert message.endswith("key 'update_biases': expected true or false, got a number")


def test_during_backward_online_is_accepted() -> None:
    net = parse_network(edited('batch = "full"', 'batch = "online"\nupdate_order = '
                               '"during_backward"', XOR), "xor.toml")
    assert (net.update_order, net.batch_size) == ("during_backward", 1)


@pytest.mark.parametrize(("old", "new"), [
    ('batch = "full"', "batch = 2.5"),
    (XOR_TARGETS, "targets = [[0], [1], [1]]"),
    ('batch = "full"', 'batch = 2\nupdate_order = "during_backward"'),
    (XOR_INPUTS + "\n" + XOR_TARGETS, MANY),
])
def test_bad_examples_on_the_command_line_exit_2_with_one_line(
        tmp_path, capsys, old: str, new: str) -> None:  # type: ignore[no-untyped-def]
    from backprop_tui import cli

    path = tmp_path / "bad.toml"
    path.write_text(edited(old, new, XOR), "utf-8")
    for command in (["train", "--epochs", "1"], ["check"], ["export", "--epochs", "1"]):
        status = cli.main([*command, "--config", str(path)])
        captured = capsys.readouterr()
        assert status == 2 and captured.out == "", command
        assert captured.err.startswith(f"backprop-tui: {path}: ") and \
            captured.err.count("\n") == 1, captured.err


def test_one_example_written_as_rows_is_the_flat_file(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """inputs = [[…]] and targets = [[…]]: one example, exactly as the flat lists."""
    from backprop_tui import cli
    from backprop_tui.engine.plan import plan
    from backprop_tui.engine.trace import trace_epoch
    from backprop_tui.steps.build import EpochSteps

    rows = edited("targets = [0.01, 0.99]", "targets = [[0.01, 0.99]]",
                  edited("inputs = [0.05, 0.10]", "inputs = [[0.05, 0.10]]"))
    flat, nested = parse_network(TUTORIAL, "flat.toml"), parse_network(rows, "rows.toml")
    assert_same(nested, flat)
    assert nested.examples == 1 and nested.options() == flat.options()
    assert dump_network(nested) == dump_network(flat)
    assert "inputs = [0.05, 0.1]" in dump_network(nested)
    assert plan(nested).keys == plan(flat).keys
    assert all(key.example == 0 for key in plan(nested).keys)
    steps = [EpochSteps(1, trace_epoch(net)) for net in (flat, nested)]
    assert [s.record() for s in steps[0]] == [s.record() for s in steps[1]]
    assert steps[0].record() == steps[1].record() and steps[1].update_records() == []
    printed = []
    for text in (TUTORIAL, rows):
        path = tmp_path / "net.toml"
        path.write_text(text, "utf-8")
        assert cli.main(["train", "--epochs", "3", "--config", str(path)]) == 0
        printed.append(capsys.readouterr().out)
    assert printed[0] == printed[1]


def test_an_epoch_too_long_to_step_is_refused_in_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """256 examples of a 2-32-1 network: each epoch would have some 140,000 steps, each
    worked one scalar at a time: refused in one line (exit 2), by every command."""
    import subprocess
    import sys

    from backprop_tui.netfile import MAX_EXAMPLE_STEPS, parse_given

    rows = [[0.01 * i, 0.5] for i in range(256)]
    text = (f"inputs = {rows}\ntargets = {[[0.5]] * 256}\nbatch = \"full\"\n"
            f"[[layer]]\nweights = {[[0.1, 0.2]] * 32}\n[[layer]]\nweights = [{[0.1] * 32}]\n")
    with pytest.raises(NetworkFileError, match=f"at most {MAX_EXAMPLE_STEPS:,} are supported"):
        parse_given(text, "big.toml")
    path = tmp_path / "big.toml"
    path.write_text(text)
    for command in (["export", "-o", str(tmp_path / "log.md")], ["train", "--epochs", "2"]):
        done = subprocess.run([sys.executable, "-m", "backprop_tui", *command, "--config",
                               str(path)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, command
        assert "140,544 steps" in done.stderr and done.stdout == ""
