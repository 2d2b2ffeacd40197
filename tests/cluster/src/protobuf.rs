//! Decoding of `application/vnd.kubernetes.protobuf` request bodies into JSON objects.
//!
//! kubectl's typed clients (drain's evictions and deletions, `auth can-i`, `create configmap`,
//! `create namespace`, ...) send protobuf. A body is the magic `k8s\0` followed by a
//! `runtime.Unknown` envelope naming the kind and carrying the object's own encoding. The
//! messages are read with a small table of field numbers and JSON names for the kinds those
//! commands send; other kinds are refused with 415 (responses are always JSON, which every
//! client accepts).

use base64::Engine;
use serde_json::{Map, Value, json};

const MAGIC: &[u8] = b"k8s\0";

#[derive(Clone, Copy)]
enum Kind {
    Str,
    Bytes,
    Int,
    Bool,
    Time,
    Msg(&'static str),
    MapStr,
    MapBytes,
}

#[derive(Clone, Copy)]
struct Field {
    number: u64,
    name: &'static str,
    kind: Kind,
    repeated: bool,
}

const fn f(number: u64, name: &'static str, kind: Kind) -> Field {
    Field {
        number,
        name,
        kind,
        repeated: false,
    }
}

const fn rep(number: u64, name: &'static str, kind: Kind) -> Field {
    Field {
        number,
        name,
        kind,
        repeated: true,
    }
}

/// Field numbers and JSON names of the messages the decoder knows.
static SCHEMAS: &[(&str, &[Field])] = {
    use Kind::{Bool, Bytes, Int, MapBytes, MapStr, Msg, Str, Time};
    &[
        (
            "Unknown",
            &[
                f(1, "typeMeta", Msg("TypeMeta")),
                f(2, "raw", Bytes),
                f(3, "contentEncoding", Str),
                f(4, "contentType", Str),
            ],
        ),
        ("TypeMeta", &[f(1, "apiVersion", Str), f(2, "kind", Str)]),
        (
            "ObjectMeta",
            &[
                f(1, "name", Str),
                f(2, "generateName", Str),
                f(3, "namespace", Str),
                f(5, "uid", Str),
                f(6, "resourceVersion", Str),
                f(8, "creationTimestamp", Time),
                f(9, "deletionTimestamp", Time),
                f(10, "deletionGracePeriodSeconds", Int),
                f(11, "labels", MapStr),
                f(12, "annotations", MapStr),
                rep(13, "ownerReferences", Msg("OwnerReference")),
                rep(14, "finalizers", Str),
            ],
        ),
        (
            "OwnerReference",
            &[
                f(1, "kind", Str),
                f(3, "name", Str),
                f(4, "uid", Str),
                f(5, "apiVersion", Str),
                f(6, "controller", Bool),
                f(7, "blockOwnerDeletion", Bool),
            ],
        ),
        (
            "DeleteOptions",
            &[
                f(1, "gracePeriodSeconds", Int),
                f(2, "preconditions", Msg("Preconditions")),
                f(3, "orphanDependents", Bool),
                f(4, "propagationPolicy", Str),
                rep(5, "dryRun", Str),
            ],
        ),
        (
            "Preconditions",
            &[f(1, "uid", Str), f(2, "resourceVersion", Str)],
        ),
        (
            "Eviction",
            &[
                f(1, "metadata", Msg("ObjectMeta")),
                f(2, "deleteOptions", Msg("DeleteOptions")),
            ],
        ),
        (
            "SelfSubjectAccessReview",
            &[
                f(1, "metadata", Msg("ObjectMeta")),
                f(2, "spec", Msg("SelfSubjectAccessReviewSpec")),
            ],
        ),
        (
            "SelfSubjectAccessReviewSpec",
            &[
                f(1, "resourceAttributes", Msg("ResourceAttributes")),
                f(2, "nonResourceAttributes", Msg("NonResourceAttributes")),
            ],
        ),
        (
            "ResourceAttributes",
            &[
                f(1, "namespace", Str),
                f(2, "verb", Str),
                f(3, "group", Str),
                f(4, "version", Str),
                f(5, "resource", Str),
                f(6, "subresource", Str),
                f(7, "name", Str),
            ],
        ),
        (
            "NonResourceAttributes",
            &[f(1, "path", Str), f(2, "verb", Str)],
        ),
        (
            "ConfigMap",
            &[
                f(1, "metadata", Msg("ObjectMeta")),
                f(2, "data", MapStr),
                f(3, "binaryData", MapBytes),
                f(4, "immutable", Bool),
            ],
        ),
        (
            "Secret",
            &[
                f(1, "metadata", Msg("ObjectMeta")),
                f(2, "data", MapBytes),
                f(3, "type", Str),
                f(4, "stringData", MapStr),
                f(5, "immutable", Bool),
            ],
        ),
        (
            "Namespace",
            &[
                f(1, "metadata", Msg("ObjectMeta")),
                f(2, "spec", Msg("NamespaceSpec")),
                f(3, "status", Msg("NamespaceStatus")),
            ],
        ),
        ("NamespaceSpec", &[rep(1, "finalizers", Str)]),
        ("NamespaceStatus", &[f(1, "phase", Str)]),
        (
            "ServiceAccount",
            &[
                f(1, "metadata", Msg("ObjectMeta")),
                rep(2, "secrets", Msg("ObjectReference")),
                rep(3, "imagePullSecrets", Msg("LocalObjectReference")),
                f(4, "automountServiceAccountToken", Bool),
            ],
        ),
        (
            "ObjectReference",
            &[
                f(1, "kind", Str),
                f(2, "namespace", Str),
                f(3, "name", Str),
                f(4, "uid", Str),
                f(5, "apiVersion", Str),
                f(6, "resourceVersion", Str),
                f(7, "fieldPath", Str),
            ],
        ),
        ("LocalObjectReference", &[f(1, "name", Str)]),
    ]
};

fn schema(message: &str) -> Option<&'static [Field]> {
    SCHEMAS
        .iter()
        .find(|(name, _)| *name == message)
        .map(|(_, fields)| *fields)
}

/// Why a protobuf body cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtobufError {
    /// The bytes are not a Kubernetes protobuf envelope.
    #[error("the body is not a Kubernetes protobuf object: {0}")]
    Malformed(String),
    /// The kind is not in the decoder's table.
    #[error("the test cluster cannot decode protobuf bodies of kind {0}; send JSON")]
    UnsupportedKind(String),
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, ProtobufError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .bytes
                .get(self.pos)
                .ok_or_else(|| malformed("truncated varint"))?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed("varint too long"))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], ProtobufError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| malformed("truncated field"))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }
}

fn malformed(why: &str) -> ProtobufError {
    ProtobufError::Malformed(why.to_string())
}

enum Raw<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn fields(bytes: &[u8]) -> Result<Vec<(u64, Raw<'_>)>, ProtobufError> {
    let mut reader = Reader { bytes, pos: 0 };
    let mut out = Vec::new();
    while reader.pos < bytes.len() {
        let key = reader.varint()?;
        let (number, wire) = (key >> 3, key & 7);
        let raw = match wire {
            0 => Raw::Varint(reader.varint()?),
            1 => Raw::Bytes(reader.take(8)?),
            2 => {
                let len =
                    usize::try_from(reader.varint()?).map_err(|_| malformed("length too large"))?;
                Raw::Bytes(reader.take(len)?)
            }
            5 => Raw::Bytes(reader.take(4)?),
            _ => return Err(malformed("unsupported wire type")),
        };
        out.push((number, raw));
    }
    Ok(out)
}

fn text(bytes: &[u8]) -> Result<String, ProtobufError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| malformed("invalid UTF-8"))
}

fn map_entry(bytes: &[u8], value_as_bytes: bool) -> Result<(String, Value), ProtobufError> {
    let mut key = String::new();
    let mut value = Value::String(String::new());
    for (number, raw) in fields(bytes)? {
        if let Raw::Bytes(b) = raw {
            match number {
                1 => key = text(b)?,
                2 if value_as_bytes => {
                    value = json!(base64::engine::general_purpose::STANDARD.encode(b))
                }
                2 => value = json!(text(b)?),
                _ => {}
            }
        }
    }
    Ok((key, value))
}

fn time(bytes: &[u8]) -> Result<Option<String>, ProtobufError> {
    let mut seconds = 0i64;
    for (number, raw) in fields(bytes)? {
        if let (1, Raw::Varint(v)) = (number, raw) {
            seconds = v as i64;
        }
    }
    if seconds == 0 {
        return Ok(None);
    }
    let when = jiff::Timestamp::from_second(seconds).map_err(|_| malformed("time out of range"))?;
    Ok(Some(crate::store::format_time(when)))
}

fn decode_message(message: &str, bytes: &[u8]) -> Result<Value, ProtobufError> {
    let schema =
        schema(message).ok_or_else(|| ProtobufError::UnsupportedKind(message.to_string()))?;
    let mut out = Map::new();
    for (number, raw) in fields(bytes)? {
        let Some(field) = schema.iter().find(|f| f.number == number) else {
            continue;
        };
        let value = match (field.kind, raw) {
            (Kind::Str, Raw::Bytes(b)) => json!(text(b)?),
            (Kind::Bytes, Raw::Bytes(b)) => {
                json!(base64::engine::general_purpose::STANDARD.encode(b))
            }
            (Kind::Int, Raw::Varint(v)) => json!(v as i64),
            (Kind::Bool, Raw::Varint(v)) => json!(v != 0),
            (Kind::Time, Raw::Bytes(b)) => match time(b)? {
                Some(t) => json!(t),
                None => continue,
            },
            (Kind::Msg(inner), Raw::Bytes(b)) => decode_message(inner, b)?,
            (Kind::MapStr | Kind::MapBytes, Raw::Bytes(b)) => {
                let (key, value) = map_entry(b, matches!(field.kind, Kind::MapBytes))?;
                let map = out.entry(field.name).or_insert_with(|| json!({}));
                if let Some(map) = map.as_object_mut() {
                    map.insert(key, value);
                }
                continue;
            }
            _ => return Err(malformed("field of the wrong wire type")),
        };
        if value.as_str() == Some("") {
            continue;
        }
        if field.repeated {
            if let Some(list) = out
                .entry(field.name)
                .or_insert_with(|| json!([]))
                .as_array_mut()
            {
                list.push(value);
            }
        } else {
            out.insert(field.name.to_string(), value);
        }
    }
    Ok(Value::Object(out))
}

/// Decodes a protobuf request body into the JSON object it stands for.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| malformed("missing the k8s magic prefix"))?;
    let mut kind = String::new();
    let mut api_version = String::new();
    let mut raw: &[u8] = &[];
    for (number, value) in fields(envelope)? {
        match (number, value) {
            (1, Raw::Bytes(b)) => {
                for (n, v) in fields(b)? {
                    match (n, v) {
                        (1, Raw::Bytes(s)) => api_version = text(s)?,
                        (2, Raw::Bytes(s)) => kind = text(s)?,
                        _ => {}
                    }
                }
            }
            (2, Raw::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    let mut obj = decode_message(&kind, raw)?;
    if let Some(map) = obj.as_object_mut() {
        if !api_version.is_empty() {
            map.insert("apiVersion".into(), json!(api_version));
        }
        map.insert("kind".into(), json!(kind));
    }
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    fn bytes_field(number: u64, payload: &[u8], out: &mut Vec<u8>) {
        varint(number << 3 | 2, out);
        varint(payload.len() as u64, out);
        out.extend_from_slice(payload);
    }

    fn varint_field(number: u64, value: u64, out: &mut Vec<u8>) {
        varint(number << 3, out);
        varint(value, out);
    }

    fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let mut type_meta = Vec::new();
        bytes_field(1, api_version.as_bytes(), &mut type_meta);
        bytes_field(2, kind.as_bytes(), &mut type_meta);
        let mut body = MAGIC.to_vec();
        bytes_field(1, &type_meta, &mut body);
        bytes_field(2, raw, &mut body);
        body
    }

    #[test]
    fn decodes_an_eviction_with_delete_options() {
        let mut meta = Vec::new();
        bytes_field(1, b"web-1", &mut meta);
        bytes_field(3, b"default", &mut meta);
        bytes_field(8, &[], &mut meta);
        let mut preconditions = Vec::new();
        bytes_field(1, b"uid-1", &mut preconditions);
        let mut options = Vec::new();
        varint_field(1, 0, &mut options);
        bytes_field(2, &preconditions, &mut options);
        bytes_field(5, b"All", &mut options);
        let mut eviction = Vec::new();
        bytes_field(1, &meta, &mut eviction);
        bytes_field(2, &options, &mut eviction);
        let obj = decode(&envelope("policy/v1", "Eviction", &eviction)).unwrap();
        assert_eq!(
            obj,
            json!({"apiVersion": "policy/v1", "kind": "Eviction",
                   "metadata": {"name": "web-1", "namespace": "default"},
                   "deleteOptions": {"gracePeriodSeconds": 0, "preconditions": {"uid": "uid-1"}, "dryRun": ["All"]}})
        );
    }

    #[test]
    fn decodes_maps_and_refuses_unknown_kinds() {
        let mut entry = Vec::new();
        bytes_field(1, b"key", &mut entry);
        bytes_field(2, b"value", &mut entry);
        let mut meta = Vec::new();
        bytes_field(1, b"cfg", &mut meta);
        let mut config = Vec::new();
        bytes_field(1, &meta, &mut config);
        bytes_field(2, &entry, &mut config);
        let obj = decode(&envelope("v1", "ConfigMap", &config)).unwrap();
        assert_eq!(obj["data"], json!({"key": "value"}));
        assert_eq!(obj["metadata"], json!({"name": "cfg"}));
        assert_eq!(
            decode(&envelope("apps/v1", "Deployment", &[])),
            Err(ProtobufError::UnsupportedKind("Deployment".into()))
        );
        assert!(matches!(decode(b"{}"), Err(ProtobufError::Malformed(_))));
    }
}
