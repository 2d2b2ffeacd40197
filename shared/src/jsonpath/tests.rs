//! Cases mirrored from client-go's jsonpath_test.go and parser_test.go.

use serde_json::{Value, json};

use super::{JsonPathError, render};

fn ok(template: &str, input: &Value) -> String {
    render(template, input).unwrap_or_else(|e| panic!("{template}: {e}"))
}

fn syntax_error(template: &str) -> (usize, String) {
    match render(template, &json!({})) {
        Err(JsonPathError::Syntax { column, message }) => (column, message),
        other => panic!("{template}: expected a syntax error, got {other:?}"),
    }
}

fn types() -> Value {
    json!({
        "bools": [true, false, true, false],
        "integers": [1, 2, 3, 4],
        "floats": [1.0, 2.2, 3.3, 4.0],
        "strings": ["one", "two", "three", "four"],
        "interfaces": [true, "one", 1, 1.1],
        "maps": [
            {"name": "one", "value": 1},
            {"name": "two", "value": 2.02},
            {"name": "three", "value": 3.03},
            {"name": "four", "value": 4.04}
        ]
    })
}

#[test]
fn slices_of_every_type() {
    let t = types();
    for (template, want) in [
        ("{ .bools }", "[true,false,true,false]"),
        ("{ .bools[0] }", "true"),
        ("{ .bools[-1] }", "false"),
        ("{ .bools[0:2] }", "true false"),
        ("{ .bools[:2] }", "true false"),
        ("{ .bools[:4:2] }", "true true"),
        ("{ .integers }", "[1,2,3,4]"),
        ("{ .integers[-2] }", "3"),
        ("{ .integers[:4:2] }", "1 3"),
        ("{ .floats }", "[1,2.2,3.3,4]"),
        ("{ .floats[0] }", "1"),
        ("{ .floats[-2] }", "3.3"),
        ("{ .floats[:4:2] }", "1 3.3"),
        ("{ .strings }", r#"["one","two","three","four"]"#),
        ("{ .strings[0:2] }", "one two"),
        ("{ .interfaces }", r#"[true,"one",1,1.1]"#),
        ("{ .interfaces[0:2] }", "true one"),
        ("{ .interfaces[:4:2] }", "true 1"),
        ("{ .maps[0] }", r#"{"name":"one","value":1}"#),
        ("{ .maps[-2] }", r#"{"name":"three","value":3.03}"#),
        (
            "{ .maps[::2] }",
            r#"{"name":"one","value":1} {"name":"three","value":3.03}"#,
        ),
        (
            "{ .maps[1::2] }",
            r#"{"name":"two","value":2.02} {"name":"four","value":4.04}"#,
        ),
    ] {
        assert_eq!(ok(template, &t), want, "{template}");
    }
}

fn store() -> Value {
    json!({
        "Name": "jsonpath",
        "Book": [
            {"Category": "reference", "Author": "Nigel Rees", "Title": "Sayings of the Centurey", "Price": 8.95},
            {"Category": "fiction", "Author": "Evelyn Waugh", "Title": "Sword of Honour", "Price": 12.99},
            {"Category": "fiction", "Author": "Herman Melville", "Title": "Moby Dick", "Price": 8.99}
        ],
        "Bicycle": [
            {"Color": "red", "Price": 19.95, "IsNew": true},
            {"Color": "green", "Price": 20.01, "IsNew": false}
        ],
        "Labels": {"engieer": 10, "web/html": 15, "k8s-app": 20},
        "Employees": {"jason": "manager", "dan": "clerk"}
    })
}

#[test]
fn store_cases() {
    let s = store();
    for (template, input, want) in [
        ("hello jsonpath", json!(null), "hello jsonpath"),
        ("{..}", json!([1, 2, 3]), "[1,2,3]"),
        ("{[?(@<5)]}", json!([2, 6, 3, 7]), "2 3"),
        (r#"{"{"}"#, json!(null), "{"),
        ("{[1,3,4]}", json!([0, 1, 2, 3, 4]), "1 3 4"),
        ("{[0:2]}", json!(["Monday", "Tudesday"]), "Monday Tudesday"),
        ("hello {.Name}", s.clone(), "hello jsonpath"),
        ("{$.Labels.web/html}", s.clone(), "15"),
        ("{$.Employees.jason}", s.clone(), "manager"),
        ("{.Labels.k8s-app}", s.clone(), "20"),
        ("{.Bicycle[*].Color}", s.clone(), "red green"),
        (
            "{.Book[*].Author}",
            s.clone(),
            "Nigel Rees Evelyn Waugh Herman Melville",
        ),
        (
            r#"{range .Bicycle[*]}{ "{" }{ @.Color } {@.Price}{ "} " }{end}"#,
            s.clone(),
            "{red 19.95} {green 20.01} ",
        ),
        (
            r#"{range .Bicycle[*]}{ @ }{ " " }{end}"#,
            s.clone(),
            r#"{"Color":"red","IsNew":true,"Price":19.95} {"Color":"green","IsNew":false,"Price":20.01} "#,
        ),
        (
            "{.Book[-1:]}",
            s.clone(),
            r#"{"Author":"Herman Melville","Category":"fiction","Price":8.99,"Title":"Moby Dick"}"#,
        ),
        (
            "{..Book[2]}",
            s.clone(),
            r#"{"Author":"Herman Melville","Category":"fiction","Price":8.99,"Title":"Moby Dick"}"#,
        ),
        (
            "{.Bicycle[?(@.IsNew==true)]}",
            s.clone(),
            r#"{"Color":"red","IsNew":true,"Price":19.95}"#,
        ),
        ("{.hello}", s.clone(), ""),
        ("before-{.hello}after", s.clone(), "before-after"),
    ] {
        assert_eq!(ok(template, &input), want, "{template}");
    }
}

#[test]
fn recursive_descent_finds_every_match() {
    let s = store();
    let mut prices: Vec<String> = ok("{..Price}", &s).split(' ').map(String::from).collect();
    prices.sort();
    assert_eq!(prices, ["12.99", "19.95", "20.01", "8.95", "8.99"]);
    assert_eq!(ok("{...Price}", &s).split(' ').count(), 5);
}

fn nodes() -> Value {
    json!({
        "kind": "List",
        "items": [
            {
                "kind": "None",
                "metadata": {"name": "127.0.0.1", "labels": {"kubernetes.io/hostname": "127.0.0.1"}},
                "status": {
                    "capacity": {"cpu": "4"},
                    "ready": true,
                    "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.1"}]
                }
            },
            {
                "kind": "None",
                "metadata": {"name": "127.0.0.2", "labels": {"kubernetes.io/hostname": "127.0.0.2"}},
                "status": {
                    "capacity": {"cpu": "8"},
                    "ready": false,
                    "addresses": [
                        {"type": "LegacyHostIP", "address": "127.0.0.2"},
                        {"type": "another", "address": "127.0.0.3"}
                    ]
                }
            }
        ],
        "users": [
            {"name": "myself", "user": {}},
            {"name": "e2e", "user": {"username": "admin", "password": "secret"}}
        ]
    })
}

#[test]
fn kubernetes_cases() {
    let n = nodes();
    for (template, want) in [
        (
            "{range .items[*]}{.metadata.name}, {end}{.kind}",
            "127.0.0.1, 127.0.0.2, List",
        ),
        (
            r#"{range .items[*]}{.metadata.name}{"\t"}{end}"#,
            "127.0.0.1\t127.0.0.2\t",
        ),
        (
            "{.items[*].status.addresses[*].address}",
            "127.0.0.1 127.0.0.2 127.0.0.3",
        ),
        (
            "{range .items[*]}{range .status.addresses[*]}{.address}, {end}{end}",
            "127.0.0.1, 127.0.0.2, 127.0.0.3, ",
        ),
        ("{.items[*].metadata.name}", "127.0.0.1 127.0.0.2"),
        (
            "{.items[*]['metadata.name', 'status.capacity']}",
            r#"127.0.0.1 127.0.0.2 {"cpu":"4"} {"cpu":"8"}"#,
        ),
        (
            "{range .items[*]}[{.metadata.name}, {.status.capacity}] {end}",
            r#"[127.0.0.1, {"cpu":"4"}] [127.0.0.2, {"cpu":"8"}] "#,
        ),
        (r#"{.users[?(@.name=="e2e")].user.password}"#, "secret"),
        (
            r"{.items[0].metadata.labels.kubernetes\.io/hostname}",
            "127.0.0.1",
        ),
        (
            r#"{.items[?(@.metadata.labels.kubernetes\.io/hostname=="127.0.0.1")].kind}"#,
            "None",
        ),
        ("{.items[?(@..ready==true)].metadata.name}", "127.0.0.1"),
        ("{.items[0]['metadata']['name']}", "127.0.0.1"),
    ] {
        assert_eq!(ok(template, &n), want, "{template}");
    }
    let mut names: Vec<String> = ok("{..name}", &n).split(' ').map(String::from).collect();
    names.sort();
    assert_eq!(names, ["127.0.0.1", "127.0.0.2", "e2e", "myself"]);
}

#[test]
fn json_input_filters_and_nulls() {
    let points = json!([
        {"id": "i1", "x": 4, "y": -5},
        {"id": "i2", "x": -2, "y": -5, "z": 1},
        {"id": "i3", "x": 8, "y": 3},
        {"id": "i4", "x": -6, "y": -1},
        {"id": "i5", "x": 0, "y": 2, "z": 1},
        {"id": "i6", "x": 1, "y": 4},
        {"id": "i7", "x": null, "y": 4}
    ]);
    assert_eq!(ok("{[?(@.z)].id}", &points), "i2 i5");
    assert_eq!(ok("{[0]['id']}", &points), "i1");
    assert_eq!(ok("{[-1]['x']}", &points), "null");
    assert_eq!(ok("{[?(@.x>=4)].id}", &points), "i1 i3");
    assert_eq!(ok("{[?(@.x<0)].id}", &points), "i2 i4");
    assert_eq!(ok("{[?(@.x!=0)].id}", &points), "i1 i2 i3 i4 i6 i7");
    assert_eq!(ok("{[?(@.y==@.x)].id}", &points), "");
    assert_eq!(ok("{[?(@.x==null)].id}", &points), "i7");
}

#[test]
fn empty_and_nested_ranges() {
    let empty = json!({"items": []});
    assert_eq!(ok("{range .items[*]}{.metadata.name}{end}", &empty), "");
    assert_eq!(
        ok(
            r#"{range .items[*]}{.metadata.name}{":"}{range @.spec.containers[*]}{.name}{","}{end}{"+"}{end}"#,
            &empty
        ),
        ""
    );
    let data = json!({"items": [
        {"metadata": {"name": "pod1"}, "spec": {"containers": [
            {"name": "foo", "another": [{"name": "value1"}, {"name": "value2"}]},
            {"name": "bar", "another": [{"name": "value1"}, {"name": "value2"}]}
        ]}},
        {"metadata": {"name": "pod2"}, "spec": {"containers": [
            {"name": "baz", "another": [{"name": "value1"}, {"name": "value2"}]}
        ]}}
    ]});
    assert_eq!(
        ok(
            r#"{range .items[*]}{.metadata.name}{":"}{range @.spec.containers[*]}{.name}{","}{end}{"+"}{end}"#,
            &data
        ),
        "pod1:foo,bar,+pod2:baz,+"
    );
    assert_eq!(
        ok(
            r##"{range .items[*]}{.metadata.name}{"~"}{range @.spec.containers[*]}{.name}{":"}{range @.another[*]}{.name}{","}{end}{"+"}{end}{"#"}{end}"##,
            &data
        ),
        "pod1~foo:value1,value2,+bar:value1,value2,+#pod2~baz:value1,value2,+#"
    );
    assert_eq!(
        ok(
            r#"{range .items[*]}{.metadata.name}{"\t"}{range @.spec.containers[*]}{.name}{" "}{end}{"\t"}{range @.spec.containers[*]}{.name}{" "}{end}{"\n"}{end}"#,
            &data
        ),
        "pod1\tfoo bar \tfoo bar \npod2\tbaz \tbaz \n"
    );
}

#[test]
fn filters_tolerate_missing_keys() {
    let data = json!({"kind": "List", "items": [
        {"kind": "Pod", "metadata": {"name": "pod1", "annotations": {"color": "blue"}}},
        {"kind": "Pod", "metadata": {"name": "pod2"}},
        {"kind": "Pod", "metadata": {"name": "pod3", "annotations": {"color": "green"}}},
        {"kind": "Pod", "metadata": {"name": "pod4", "annotations": {"color": "blue"}}}
    ]});
    assert_eq!(
        ok(
            r#"{.items[?(@.metadata.annotations.color=="blue")].metadata.name}"#,
            &data
        ),
        "pod1 pod4"
    );
    let running = json!({"kind": "List", "items": [
        {"kind": "Pod", "metadata": {"name": "pod1"}, "status": {"phase": "Running"}},
        {"kind": "Pod", "metadata": {"name": "pod2"}, "status": {"phase": "Running"}},
        {"resourceVersion": ""}
    ]});
    assert_eq!(
        ok(
            r#"{range .items[?(.status.phase=="Running")]}{.metadata.name}{" is Running\n"}{end}"#,
            &running
        ),
        "pod1 is Running\npod2 is Running\n"
    );
}

fn containers(n: usize) -> Value {
    let list: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("fake{i}")}))
        .collect();
    json!({"spec": {"containers": list}})
}

#[test]
fn negative_indexes_and_steps() {
    let four = containers(4);
    for (template, want) in [
        ("{.spec.containers[0].name}", "fake0"),
        ("{.spec.containers[0:0].name}", ""),
        ("{.spec.containers[0:-1].name}", "fake0 fake1 fake2"),
        ("{.spec.containers[-1].name}", "fake3"),
        ("{.spec.containers[-1:].name}", "fake3"),
        ("{.spec.containers[-2:].name}", "fake2 fake3"),
        ("{.spec.containers[-4].name}", "fake0"),
        ("{.spec.containers[-4:].name}", "fake0 fake1 fake2 fake3"),
        ("{.spec.containers[5:5].name}", ""),
        ("{.spec.containers[-5:-5].name}", ""),
        // kubectl reports these as out of range; like a missing key they print nothing here.
        ("{.spec.containers[-5].name}", ""),
        ("{.spec.containers[3:1].name}", ""),
    ] {
        assert_eq!(ok(template, &four), want, "{template}");
    }
    let six = containers(6);
    for (template, want) in [
        (
            "{.spec.containers[0:].name}",
            "fake0 fake1 fake2 fake3 fake4 fake5",
        ),
        (
            "{.spec.containers[0:6:].name}",
            "fake0 fake1 fake2 fake3 fake4 fake5",
        ),
        ("{.spec.containers[1:4:2].name}", "fake1 fake3"),
        ("{.spec.containers[1:4:3].name}", "fake1"),
        ("{.spec.containers[0:6:5].name}", "fake0 fake5"),
        ("{.spec.containers[0:6:6].name}", "fake0"),
    ] {
        assert_eq!(ok(template, &six), want, "{template}");
    }
    assert_eq!(
        syntax_error("{.spec.containers[0:6:0].name}").1,
        "step must be > 0"
    );
    assert_eq!(
        syntax_error("{.spec.containers[0:6:-1].name}").1,
        "step must be > 0"
    );
}

#[test]
fn quoted_literals_and_escapes() {
    let v = json!({"test": "())(", "q": "''"});
    assert_eq!(ok(r#"{"\n"}{'\t'}{"\u00e9"}"#, &v), "\n\té");
    assert_eq!(
        ok(r#"{[?(@.test == "())(")].q}"#, &json!([v.clone()])),
        "''"
    );
    assert_eq!(
        ok(r#"{[?(@.q == "''")].test}"#, &json!([v.clone()])),
        "())("
    );
    assert_eq!(
        ok(r#"{[?(@.q == '\'\'')].test}"#, &json!([v.clone()])),
        "())("
    );
    assert_eq!(
        ok(
            r#"{[?(@.os == "{[()]}")].n}"#,
            &json!([{"os": "{[()]}", "n": 1}])
        ),
        "1"
    );
    assert_eq!(
        ok(
            r#"{[?(@.os == "(\"\")")].n}"#,
            &json!([{"os": "(\"\")", "n": 2}])
        ),
        "2"
    );
}

#[test]
fn root_current_and_odd_names() {
    let v = json!({"a": {"b": [1, 2]}, "it's": "quoted", "back\\slash": 1, "x": "<>"});
    assert_eq!(ok("{@}", &json!("plain")), "plain");
    assert_eq!(ok("{$}", &json!({"k": 1})), r#"{"k":1}"#);
    assert_eq!(ok("{$.a.b}", &v), "[1,2]");
    assert_eq!(ok("{.a.b[*]}", &v), "1 2");
    assert_eq!(ok("{.a.*}", &v), "[1,2]");
    assert_eq!(ok("{.it's}", &json!({"it's": "quoted"})), "quoted");
    assert_eq!(ok(r"{['back\\slash']}", &v), "1");
    assert_eq!(ok("{.x}", &v), "<>");
    assert_eq!(ok("{5}{true}", &v), "5true");
    assert_eq!(ok("{['x', 'it\\'s']}", &v), "<> quoted");
    assert_eq!(ok("{.a.b[0,1]}", &v), "1 2");
    assert_eq!(ok("{.x[?(@ == 1)]}", &v), "");
    assert_eq!(ok("$", &json!([1])), "[1]");
}

#[test]
fn plain_rfc_queries_need_no_braces() {
    let n = nodes();
    assert_eq!(ok("$.items[*].metadata.name", &n), "127.0.0.1 127.0.0.2");
    assert_eq!(
        ok("$.items[?@.status.ready == true].metadata.name", &n),
        "127.0.0.1"
    );
    assert_eq!(
        ok("$.items[?length(@.status.addresses) > 1].kind", &n),
        "None"
    );
    let (column, message) = syntax_error("$.items[?@.a ==]");
    assert!(message.starts_with("invalid RFC 9535 query"), "{message}");
    assert!(column > 1, "{column}");
}

#[test]
fn malformed_templates_name_their_position() {
    for (template, column, message) in [
        ("{.hello", 1, "unclosed action"),
        ("{*}", 2, "unrecognized character in path: '*'"),
        ("{+12.3.0}", 2, "cannot parse number +12.3.0"),
        ("{[1}", 2, "unterminated array"),
        ("{[?(.price]}", 2, "unterminated filter"),
        ("{........}", 4, "invalid multiple recursive descent"),
        ("{hello}", 2, "unrecognized identifier hello"),
        (
            "{.Book[?(@.Price<>10)]}",
            17,
            "unrecognized filter operator <>",
        ),
        (
            "{range .Labels.*}{@}{end}{end}",
            26,
            "not in range, nothing to end",
        ),
        ("x{}", 3, "empty action {}"),
        ("{.a .b}", 4, "unexpected space in path"),
        ("{.a[x]}", 5, "invalid array index x"),
        ("{range}", 2, "range needs a path, as in {range .items[*]}"),
        (r#"{"abc}"#, 1, "unclosed action"),
        (r#"{"a\qb"}"#, 4, "invalid escape in quoted string"),
        ("é{.a[x]}", 6, "invalid array index x"),
    ] {
        assert_eq!(
            syntax_error(template),
            (column, message.to_string()),
            "{template}"
        );
    }
    let err = render("{[?(@.a==1)]}", &json!([{"a": [1, 1]}]));
    assert_eq!(err, Ok(String::new()));
    let err = render("{[?(@.a[*]==1)]}", &json!([{"a": [1, 1]}])).unwrap_err();
    assert_eq!(err.to_string(), "can only compare one element at a time");
    assert_eq!(
        syntax_error("{.a[x]}").1,
        "invalid array index x",
        "display is message and column"
    );
    let usage: crate::error::Error = render("{", &json!(null)).unwrap_err().into();
    assert_eq!(usage.exit_code(), 64);
    assert_eq!(usage.to_string(), "jsonpath: unclosed action at column 1");
}

#[test]
fn unclosed_range_runs_to_the_end_like_kubectl() {
    let v = json!({"items": [{"n": 1}, {"n": 2}]});
    assert_eq!(ok("{range .items[*]}{.n};", &v), "1;2;");
}

mod properties {
    use proptest::prelude::*;
    use serde_json::json;

    use super::ok;

    /// A key written as a kubectl field, every non-alphanumeric character escaped.
    fn escaped(key: &str) -> String {
        key.chars()
            .map(|c| {
                if c.is_alphanumeric() {
                    c.to_string()
                } else {
                    format!("\\{c}")
                }
            })
            .collect()
    }

    proptest! {
        #[test]
        fn any_key_can_be_reached(key in "\\PC{1,12}|[ -~]{1,12}|[\\x00-\\x1f'\"\\\\.{}]{1,6}") {
            let data = json!({"outer": {key.clone(): "found"}});
            prop_assert_eq!(ok(&format!("{{.outer.{}}}", escaped(&key)), &data), "found");
        }

        #[test]
        fn literal_text_passes_through(text in "[^{]{0,40}") {
            prop_assume!(!text.starts_with('$'));
            prop_assert_eq!(ok(&text, &json!({})), text);
        }
    }
}
