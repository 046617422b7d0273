"""Server options: camelCase on the wire, typed, each bad value replaced by its default."""

from bowerbird.server.options import CompletionOptions, ServerOptions, parse_options, to_wire


def test_defaults_when_nothing_is_sent():
    assert parse_options(None) == (ServerOptions(), [])
    assert parse_options({}) == (ServerOptions(), [])


def test_camel_case_values_are_read_into_typed_fields():
    options, problems = parse_options(
        {"completion": {"maxTokens": 64, "temperature": 1, "backend": "openai", "url": "http://127.0.0.1:8000",
                        "dtype": "bfloat16"},
         "developerId": "ann", "indexDir": "/tmp/idx"}
    )
    assert problems == []
    assert options.completion == CompletionOptions(max_tokens=64, temperature=1.0, backend="openai", url="http://127.0.0.1:8000",
                                                  dtype="bfloat16")
    assert (options.developer_id, options.index_dir) == ("ann", "/tmp/idx")


def test_each_invalid_value_is_reported_and_replaced_by_its_default_only():
    options, problems = parse_options(
        {"completion": {"maxTokens": "many", "candidates": 0, "backend": "gpt", "debounceMs": 20, "enabled": "yes",
                        "dtype": "fp8"}}
    )
    assert options.completion == CompletionOptions(debounce_ms=20)
    assert problems == [
        "completion.enabled: invalid value 'yes'; using True",
        "completion.backend: invalid value 'gpt'; using 'embedded'",
        "completion.maxTokens: invalid value 'many'; using 48",
        "completion.candidates: invalid value 0; using 1",
        "completion.dtype: invalid value 'fp8'; using 'auto'",
    ]


def test_a_later_change_keeps_what_it_does_not_mention():
    first, _ = parse_options({"completion": {"candidates": 3}})
    second, _ = parse_options({"completion": {"temperature": 0.5}}, first)
    assert (second.completion.candidates, second.completion.temperature) == (3, 0.5)


def test_non_objects_and_unknown_keys():
    assert parse_options([1]) == (ServerOptions(), ["options: expected an object, got [1]; using defaults"])
    assert parse_options({"completion": "fast"})[1] == ["completion: expected an object, got 'fast'; using defaults"]
    assert parse_options({"colour": "blue"}) == (ServerOptions(), [])
    assert parse_options({"completion": {"maxTokens": True}})[1] == ["completion.maxTokens: invalid value True; using 48"]


def test_wire_form_round_trips():
    options, _ = parse_options({"completion": {"maxTokens": 7}, "developerId": "bo"})
    assert parse_options(to_wire(options)) == (options, [])
    assert to_wire(options)["completion"]["maxTokens"] == 7


def test_diagnostics_options_are_read_and_checked():
    from bowerbird.server.options import DiagnosticsOptions

    assert ServerOptions().diagnostics == DiagnosticsOptions(enabled=True, model=None, threshold=None, debounce_ms=150)
    options, problems = parse_options({"diagnostics": {"enabled": False, "model": "~/m", "threshold": 1, "debounceMs": 0}})
    assert problems == []
    assert options.diagnostics == DiagnosticsOptions(enabled=False, model="~/m", threshold=1.0, debounce_ms=0)
    assert to_wire(options)["diagnostics"] == {"enabled": False, "model": "~/m", "threshold": 1.0, "debounceMs": 0}
    # null is "the default": the shipped model, the model's calibrated threshold
    assert parse_options({"diagnostics": {"model": None, "threshold": None}}, options)[0].diagnostics == DiagnosticsOptions(
        enabled=False, debounce_ms=0)


def test_bad_diagnostics_options_are_reported_and_defaulted():
    from bowerbird.server.options import DiagnosticsOptions

    options, problems = parse_options(
        {"diagnostics": {"enabled": "no", "model": "  ", "threshold": 1.5, "debounceMs": -1}, "completion": {"candidates": 2}}
    )
    assert options.diagnostics == DiagnosticsOptions()
    assert options.completion == CompletionOptions(candidates=2)  # the rest is kept
    assert problems == [
        "diagnostics.enabled: invalid value 'no'; using True",
        "diagnostics.model: invalid value '  '; using None",
        "diagnostics.threshold: invalid value 1.5; using None",
        "diagnostics.debounceMs: invalid value -1; using 150",
    ]
    for bad in ("high", True, float("nan"), -0.1, [0.5]):
        assert parse_options({"diagnostics": {"threshold": bad}})[1] == [f"diagnostics.threshold: invalid value {bad!r}; using None"]
    for bad in (5001, 2.5, "300", None):
        assert parse_options({"diagnostics": {"debounceMs": bad}})[1] == [f"diagnostics.debounceMs: invalid value {bad!r}; using 150"]
    assert parse_options({"diagnostics": {"model": 3}})[1] == ["diagnostics.model: invalid value 3; using None"]
    assert parse_options({"diagnostics": "off"})[1] == ["diagnostics: expected an object, got 'off'; using defaults"]


def test_proposal_chooser_options_are_read_and_checked():
    options, problems = parse_options({"completion": {"proposalChooser": "fixed", "classifier": "/models/ppc"}})
    assert (options.completion.proposal_chooser, options.completion.classifier) == ("fixed", "/models/ppc")
    assert problems == []
    options, problems = parse_options({"completion": {"proposalChooser": "magic", "classifier": "  ", "proposal": 63}})
    assert options.completion == CompletionOptions()
    assert problems == [
        "completion.proposalChooser: invalid value 'magic'; using 'classifier'",
        "completion.classifier: invalid value '  '; using None",
        "completion.proposal: invalid value 63; using 62",
    ]
