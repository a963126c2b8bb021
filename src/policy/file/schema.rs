//! The JSON Schema (draft 2020-12) of the policy file, printed by `humbly policy schema`
//! for editors and linters. It describes the shape; `humbly policy check` also checks what
//! a schema cannot (regex syntax, signer names, thresholds).

/// The schema text.
pub const SCHEMA: &str = r##"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "urn:sigbox:humbly:policy:v1",
  "title": "humbly policy file, version 1",
  "type": "object",
  "additionalProperties": false,
  "required": ["version", "signers"],
  "properties": {
    "version": {"const": 1},
    "trusted_roots": {
      "description": "Trusted roots by name; a signature may chain to any of them. Empty: the verifier's default instance.",
      "type": "object",
      "additionalProperties": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
          "embedded": {"enum": ["public-good"]},
          "trusted_root": {"type": "string", "description": "trusted_root.json, relative to the policy file"},
          "trust_config": {"type": "string", "description": "ClientTrustConfig (sigbox up writes one), relative to the policy file"},
          "rekor_urls": {"type": "array", "items": {"type": "string"}, "description": "Rekor v1 logs searched by digest when a target has no bundle"}
        },
        "oneOf": [
          {"required": ["embedded"]}, {"required": ["trusted_root"]}, {"required": ["trust_config"]}
        ]
      }
    },
    "signers": {
      "type": "object",
      "additionalProperties": {"$ref": "#/$defs/signer"}
    },
    "deny": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "identities": {"type": "array", "items": {"type": "string"}},
        "serials": {"type": "array", "items": {"$ref": "#/$defs/hex"}},
        "key_ids": {"type": "array", "items": {"$ref": "#/$defs/hex"}},
        "log_entries": {"type": "array", "items": {"$ref": "#/$defs/hex"}}
      }
    },
    "rules": {"type": "array", "items": {"$ref": "#/$defs/rule", "required": ["name", "match"]}},
    "default": {"$ref": "#/$defs/rule"}
  },
  "$defs": {
    "hex": {"type": "string", "pattern": "^[0-9a-fA-F:]+$"},
    "signer": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "identity": {"type": "string", "description": "certificate SAN, exact"},
        "identity_regex": {"type": "string", "description": "certificate SAN, whole-string RE2 regex"},
        "issuer": {"type": "string"},
        "issuer_regex": {"type": "string"},
        "github": {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "repository": {"type": "string"}, "ref": {"type": "string"},
            "workflow": {"type": "string"}, "trigger": {"type": "string"},
            "sha": {"type": "string"}, "runner_environment": {"type": "string"}
          }
        },
        "extensions": {
          "type": "object",
          "propertyNames": {"pattern": "^1\\.3\\.6\\.1\\.4\\.1\\.57264\\.1\\.[0-9]+$"},
          "additionalProperties": {"type": "string"}
        },
        "public_key": {"type": "string", "description": "PEM or DER public key file, relative to the policy file"}
      },
      "oneOf": [
        {"required": ["public_key"]},
        {"allOf": [
          {"anyOf": [{"required": ["identity"]}, {"required": ["identity_regex"]}]},
          {"anyOf": [{"required": ["issuer"]}, {"required": ["issuer_regex"]}]}
        ]}
      ]
    },
    "rule": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "name": {"type": "string"},
        "match": {
          "type": "object",
          "additionalProperties": false,
          "minProperties": 1,
          "properties": {
            "glob": {"type": "string"},
            "image": {"type": "string"},
            "digest": {"type": "string", "pattern": "^sha256:[0-9a-fA-F]{64}$"}
          }
        },
        "signers": {"type": "array", "items": {"type": "string"}},
        "threshold": {"type": "integer", "minimum": 1},
        "require": {"type": "array", "items": {"enum": ["tlog", "timestamp"]}},
        "max_age": {"type": "string", "pattern": "^[0-9]+[smhdw]$"},
        "not_before": {"type": "string", "format": "date-time"},
        "reject": {"type": "boolean"},
        "attestations": {
          "type": "array",
          "items": {
            "type": "object",
            "additionalProperties": false,
            "required": ["predicate_type"],
            "properties": {
              "predicate_type": {"type": "string"},
              "signers": {"type": "array", "items": {"type": "string"}},
              "constraints": {
                "type": "array",
                "items": {
                  "type": "object",
                  "additionalProperties": false,
                  "required": ["pointer"],
                  "properties": {
                    "pointer": {"type": "string", "pattern": "^(/.*)?$"},
                    "equals": {},
                    "regex": {"type": "string"},
                    "one_of": {"type": "array"}
                  },
                  "oneOf": [{"required": ["equals"]}, {"required": ["regex"]}, {"required": ["one_of"]}]
                }
              }
            }
          }
        }
      }
    }
  }
}
"##;
