//! Contract artifacts and a small Solidity ABI codec for the Contracts panel (native, tested).
//!
//! Reads the artifact JSON that solc (`--combined-json`/standard JSON), forge (`out/*.json`)
//! and hardhat (`artifacts/**.json`) write: the `abi` array and the creation bytecode
//! (`bytecode` as a string, `bytecode.object`, or `evm.bytecode.object`).
//!
//! Encodes and decodes the elementary types: `uint<N>`, `int<N>`, `address`, `bool`,
//! `bytes<N>`, `bytes`, `string`. Functions or events with arrays or tuples are listed with
//! the reason they cannot be used here (alloy's dyn-abi is not in the workspace; this keeps the
//! wasm small).
use serde_json::Value;
use tc_types::{Address, B256, U256, keccak256};

/// An elementary ABI type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `uint<bits>`
    Uint(u16),
    /// `int<bits>`
    Int(u16),
    /// `address`
    Address,
    /// `bool`
    Bool,
    /// `bytes<len>` (1–32)
    FixedBytes(u8),
    /// `bytes`
    Bytes,
    /// `string`
    String,
}

impl Kind {
    /// Parse a Solidity type name (`uint` = `uint256`, `int` = `int256`).
    pub fn parse(ty: &str) -> Result<Kind, String> {
        let bits = |rest: &str| -> Result<u16, String> {
            if rest.is_empty() {
                return Ok(256);
            }
            match rest.parse::<u16>() {
                Ok(b) if b > 0 && b <= 256 && b.is_multiple_of(8) => Ok(b),
                _ => Err(format!(
                    "invalid type {ty:?}: bit size must be 8–256 in steps of 8"
                )),
            }
        };
        if ty.contains('[') || ty.starts_with("tuple") {
            return Err(format!(
                "type {ty} (arrays and tuples) is not supported here"
            ));
        }
        Ok(match ty {
            "address" => Kind::Address,
            "bool" => Kind::Bool,
            "bytes" => Kind::Bytes,
            "string" => Kind::String,
            _ => {
                if let Some(rest) = ty.strip_prefix("uint") {
                    Kind::Uint(bits(rest)?)
                } else if let Some(rest) = ty.strip_prefix("int") {
                    Kind::Int(bits(rest)?)
                } else if let Some(rest) = ty.strip_prefix("bytes") {
                    match rest.parse::<u8>() {
                        Ok(n) if (1..=32).contains(&n) => Kind::FixedBytes(n),
                        _ => return Err(format!("invalid type {ty:?}: bytes<N> needs N in 1–32")),
                    }
                } else {
                    return Err(format!("type {ty} is not supported here"));
                }
            }
        })
    }

    /// Canonical name (as in signatures).
    pub fn canonical(self) -> String {
        match self {
            Kind::Uint(b) => format!("uint{b}"),
            Kind::Int(b) => format!("int{b}"),
            Kind::Address => "address".into(),
            Kind::Bool => "bool".into(),
            Kind::FixedBytes(n) => format!("bytes{n}"),
            Kind::Bytes => "bytes".into(),
            Kind::String => "string".into(),
        }
    }

    /// Whether the encoding has a tail (offset in the head).
    pub fn is_dynamic(self) -> bool {
        matches!(self, Kind::Bytes | Kind::String)
    }
}

/// A decoded value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    /// Unsigned integer.
    Uint(U256),
    /// Signed integer: magnitude and sign.
    Int {
        /// True when below zero.
        negative: bool,
        /// Absolute value.
        abs: U256,
    },
    /// Address.
    Address(Address),
    /// Boolean.
    Bool(bool),
    /// `bytes<N>` or `bytes`.
    Bytes(Vec<u8>),
    /// UTF-8 string (lossy).
    Str(String),
    /// An indexed dynamic event argument: only its keccak hash is in the log.
    Hashed(B256),
}

impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Val::Uint(v) => write!(f, "{v}"),
            Val::Int { negative, abs } => {
                write!(
                    f,
                    "{}{abs}",
                    if *negative && !abs.is_zero() { "-" } else { "" }
                )
            }
            Val::Address(a) => write!(f, "{a}"),
            Val::Bool(b) => write!(f, "{b}"),
            Val::Bytes(b) => write!(f, "0x{}", hex(b)),
            Val::Str(s) => write!(f, "{s:?}"),
            Val::Hashed(h) => write!(f, "hash {h}"),
        }
    }
}

/// A function or event parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// Its name (may be empty).
    pub name: String,
    /// The type as written in the ABI.
    pub ty: String,
    /// Parsed type, or why it is not supported.
    pub kind: Result<Kind, String>,
    /// Event parameters: in the topics.
    pub indexed: bool,
}

/// A function (or the constructor: empty name, no outputs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// Name.
    pub name: String,
    /// Inputs.
    pub inputs: Vec<Param>,
    /// Outputs.
    pub outputs: Vec<Param>,
    /// `pure` | `view` | `nonpayable` | `payable`.
    pub mutability: String,
}

impl Function {
    /// `name(type,…)`.
    pub fn signature(&self) -> String {
        signature(&self.name, &self.inputs)
    }

    /// The 4-byte selector.
    pub fn selector(&self) -> [u8; 4] {
        let h = keccak256(self.signature().as_bytes());
        [h[0], h[1], h[2], h[3]]
    }

    /// Read-only: called with `eth_call`.
    pub fn is_read(&self) -> bool {
        matches!(self.mutability.as_str(), "view" | "pure")
    }

    /// Accepts ether.
    pub fn is_payable(&self) -> bool {
        self.mutability == "payable"
    }

    /// Why it cannot be used here (an unsupported parameter type), if so.
    pub fn unsupported(&self) -> Option<String> {
        self.inputs
            .iter()
            .chain(&self.outputs)
            .find_map(|p| p.kind.as_ref().err().cloned())
    }

    /// Calldata for `args` (one string per input).
    pub fn calldata(&self, args: &[String]) -> Result<Vec<u8>, String> {
        let mut out = self.selector().to_vec();
        out.extend(encode(&self.inputs, args)?);
        Ok(out)
    }

    /// Decode return data.
    pub fn decode_output(&self, data: &[u8]) -> Result<Vec<Val>, String> {
        decode(&self.outputs, data)
    }
}

/// An event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Name.
    pub name: String,
    /// Parameters (indexed ones come from topics).
    pub inputs: Vec<Param>,
    /// Anonymous events have no signature topic.
    pub anonymous: bool,
}

impl Event {
    /// `Name(type,…)`.
    pub fn signature(&self) -> String {
        signature(&self.name, &self.inputs)
    }

    /// topic 0.
    pub fn topic0(&self) -> B256 {
        keccak256(self.signature().as_bytes())
    }
}

fn signature(name: &str, params: &[Param]) -> String {
    let types: Vec<String> = params
        .iter()
        .map(|p| p.kind.as_ref().map_or(p.ty.clone(), |k| k.canonical()))
        .collect();
    format!("{name}({})", types.join(","))
}

/// A contract's interface.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Abi {
    /// Functions, in ABI order.
    pub functions: Vec<Function>,
    /// Events.
    pub events: Vec<Event>,
    /// The constructor (absent: no arguments, not payable).
    pub constructor: Option<Function>,
}

/// A decoded log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedLog {
    /// Event name.
    pub name: String,
    /// `(parameter name, value)`.
    pub args: Vec<(String, Val)>,
}

impl Abi {
    /// Parse an ABI JSON array.
    pub fn from_json(v: &Value) -> Result<Abi, String> {
        let items = v
            .as_array()
            .ok_or("the ABI must be a JSON array of functions and events")?;
        let mut abi = Abi::default();
        for (i, item) in items.iter().enumerate() {
            let kind = item
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("function");
            let name = item.get("name").and_then(Value::as_str).unwrap_or_default();
            let params = |key: &str| -> Result<Vec<Param>, String> {
                let Some(list) = item.get(key) else {
                    return Ok(Vec::new());
                };
                let list = list
                    .as_array()
                    .ok_or_else(|| format!("abi[{i}].{key} must be an array"))?;
                list.iter()
                    .enumerate()
                    .map(|(j, p)| {
                        let ty = p
                            .get("type")
                            .and_then(Value::as_str)
                            .ok_or_else(|| format!("abi[{i}].{key}[{j}] has no type"))?;
                        Ok(Param {
                            name: p
                                .get("name")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .into(),
                            ty: ty.into(),
                            kind: Kind::parse(ty),
                            indexed: p.get("indexed").and_then(Value::as_bool).unwrap_or(false),
                        })
                    })
                    .collect()
            };
            let mutability = || {
                item.get("stateMutability")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| {
                        // Old ABIs: `constant` / `payable` flags.
                        if item.get("constant").and_then(Value::as_bool) == Some(true) {
                            "view".into()
                        } else if item.get("payable").and_then(Value::as_bool) == Some(true) {
                            "payable".into()
                        } else {
                            "nonpayable".into()
                        }
                    })
            };
            match kind {
                "function" => {
                    if name.is_empty() {
                        return Err(format!("abi[{i}]: a function without a name"));
                    }
                    abi.functions.push(Function {
                        name: name.into(),
                        inputs: params("inputs")?,
                        outputs: params("outputs")?,
                        mutability: mutability(),
                    })
                }
                "constructor" => {
                    abi.constructor = Some(Function {
                        name: String::new(),
                        inputs: params("inputs")?,
                        outputs: Vec::new(),
                        mutability: mutability(),
                    })
                }
                "event" => abi.events.push(Event {
                    name: name.into(),
                    inputs: params("inputs")?,
                    anonymous: item
                        .get("anonymous")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                }),
                // receive, fallback, error: nothing to call or decode here.
                _ => {}
            }
        }
        Ok(abi)
    }

    /// Decode a log by its topic 0 (`None`: no event of this ABI matches).
    pub fn decode_log(&self, topics: &[B256], data: &[u8]) -> Option<Result<DecodedLog, String>> {
        let first = topics.first()?;
        let ev = self
            .events
            .iter()
            .find(|e| !e.anonymous && e.topic0() == *first)?;
        Some(decode_event(ev, &topics[1..], data))
    }
}

fn decode_event(ev: &Event, topics: &[B256], data: &[u8]) -> Result<DecodedLog, String> {
    let (indexed, plain): (Vec<&Param>, Vec<&Param>) = ev.inputs.iter().partition(|p| p.indexed);
    if indexed.len() != topics.len() {
        return Err(format!(
            "{}: {} indexed parameters but {} topics",
            ev.name,
            indexed.len(),
            topics.len()
        ));
    }
    let plain_owned: Vec<Param> = plain.iter().map(|p| (*p).clone()).collect();
    let mut plain_vals = decode(&plain_owned, data)?.into_iter();
    let mut topic_iter = topics.iter();
    let mut args = Vec::new();
    for p in &ev.inputs {
        let v = if p.indexed {
            let t = topic_iter.next().ok_or("missing topic")?;
            let kind = p.kind.clone()?;
            if kind.is_dynamic() {
                Val::Hashed(*t)
            } else {
                decode_word(kind, &t.0)?
            }
        } else {
            plain_vals.next().ok_or("missing value")?
        };
        args.push((p.name.clone(), v));
    }
    Ok(DecodedLog {
        name: ev.name.clone(),
        args,
    })
}

/// An artifact: name, ABI and creation bytecode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// `contractName` (hardhat, this repo), else "contract".
    pub name: String,
    /// The interface.
    pub abi: Abi,
    /// Creation bytecode.
    pub bytecode: Vec<u8>,
}

impl Artifact {
    /// Parse solc / forge / hardhat artifact JSON.
    pub fn parse(text: &str) -> Result<Artifact, String> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| format!("the artifact is not JSON: {e}"))?;
        let abi_json = match v.get("abi") {
            // solc --combined-json older versions: the ABI as a string.
            Some(Value::String(s)) => serde_json::from_str(s)
                .map_err(|e| format!("the \"abi\" string is not JSON: {e}"))?,
            Some(a) => a.clone(),
            None => return Err("no \"abi\" field: paste the artifact JSON (ABI + bytecode) as solc, forge or hardhat write it".into()),
        };
        let abi = Abi::from_json(&abi_json)?;
        let code = [
            v.get("bytecode").and_then(Value::as_str),
            v.pointer("/bytecode/object").and_then(Value::as_str),
            v.pointer("/evm/bytecode/object").and_then(Value::as_str),
            v.get("bin").and_then(Value::as_str),
        ]
        .into_iter()
        .flatten()
        .next()
        .ok_or("no bytecode: looked at bytecode, bytecode.object, evm.bytecode.object and bin")?;
        if code.contains("__") {
            return Err(
                "the bytecode has unlinked library placeholders (__…__): link it first".into(),
            );
        }
        let bytecode = parse_hex(code).map_err(|e| format!("bytecode: {e}"))?;
        if bytecode.is_empty() {
            return Err("the bytecode is empty (an interface or abstract contract?)".into());
        }
        let name = v
            .get("contractName")
            .and_then(Value::as_str)
            .unwrap_or("contract")
            .to_owned();
        Ok(Artifact {
            name,
            abi,
            bytecode,
        })
    }

    /// Creation data: bytecode followed by the encoded constructor arguments.
    pub fn deploy_data(&self, args: &[String]) -> Result<Vec<u8>, String> {
        let mut out = self.bytecode.clone();
        if let Some(c) = &self.abi.constructor {
            out.extend(encode(&c.inputs, args)?);
        } else if !args.is_empty() {
            return Err("this contract's constructor takes no arguments".into());
        }
        Ok(out)
    }
}

/// Lower-case hex without prefix.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Hex with or without `0x` (even length).
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", s.len()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(s.get(i..i + 2).unwrap_or("zz"), 16).map_err(|_| {
                format!(
                    "not hex at position {i}: {:?}",
                    s.get(i..i + 2).unwrap_or("")
                )
            })
        })
        .collect()
}

/// An amount of ether: plain digits are wei; `<decimal> ether|eth|gwei|wei` converts.
pub fn parse_amount(s: &str) -> Result<U256, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(U256::ZERO);
    }
    let (num, decimals) = match s.rsplit_once(char::is_whitespace) {
        Some((n, unit)) => (
            n.trim(),
            match unit.to_ascii_lowercase().as_str() {
                "ether" | "eth" => 18,
                "gwei" => 9,
                "wei" => 0,
                other => return Err(format!("unknown unit {other:?}: use wei, gwei or ether")),
            },
        ),
        None => (s, 0),
    };
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if frac.len() > decimals {
        return Err(format!("{s}: more decimals than the unit has ({decimals})"));
    }
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(format!(
            "{s:?} is not an amount (e.g. 1000, 0.5 ether, 3 gwei)"
        ));
    }
    let digits = format!("{int}{frac}{}", "0".repeat(decimals - frac.len()));
    U256::from_str_radix(&digits, 10).map_err(|e| format!("{s}: {e}"))
}

fn parse_uint(s: &str, bits: u16) -> Result<U256, String> {
    let s = s.trim();
    let v = match s.strip_prefix("0x") {
        Some(h) => U256::from_str_radix(h, 16),
        None => U256::from_str_radix(s, 10),
    }
    .map_err(|_| format!("{s:?} is not an unsigned integer"))?;
    if bits < 256 && v >= (U256::from(1u8) << usize::from(bits)) {
        return Err(format!("{s} does not fit in uint{bits}"));
    }
    Ok(v)
}

fn encode_word(kind: Kind, arg: &str) -> Result<[u8; 32], String> {
    let arg = arg.trim();
    Ok(match kind {
        Kind::Uint(bits) => parse_uint(arg, bits)?.to_be_bytes(),
        Kind::Int(bits) => {
            let (neg, abs) = match arg.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, arg),
            };
            let abs = parse_uint(abs, 256).map_err(|_| format!("{arg:?} is not an integer"))?;
            let limit = U256::from(1u8) << usize::from(bits - 1);
            if (!neg && abs >= limit) || (neg && abs > limit) {
                return Err(format!("{arg} does not fit in int{bits}"));
            }
            let v = if neg {
                U256::ZERO.wrapping_sub(abs)
            } else {
                abs
            };
            v.to_be_bytes()
        }
        Kind::Address => {
            let b = parse_hex(arg).map_err(|e| format!("address {arg:?}: {e}"))?;
            if b.len() != 20 {
                return Err(format!("address {arg:?}: needs 20 bytes (40 hex digits)"));
            }
            let mut w = [0u8; 32];
            w[12..].copy_from_slice(&b);
            w
        }
        Kind::Bool => {
            let mut w = [0u8; 32];
            w[31] = match arg {
                "true" | "1" => 1,
                "false" | "0" => 0,
                _ => return Err(format!("{arg:?} is not a bool (true or false)")),
            };
            w
        }
        Kind::FixedBytes(n) => {
            let b = parse_hex(arg).map_err(|e| format!("bytes{n} {arg:?}: {e}"))?;
            if b.len() != usize::from(n) {
                return Err(format!("bytes{n} needs exactly {n} bytes, got {}", b.len()));
            }
            let mut w = [0u8; 32];
            w[..b.len()].copy_from_slice(&b);
            w
        }
        Kind::Bytes | Kind::String => return Err("dynamic type in a head word".into()),
    })
}

/// ABI-encode `args` (as typed by the user) for `params`.
pub fn encode(params: &[Param], args: &[String]) -> Result<Vec<u8>, String> {
    if params.len() != args.len() {
        return Err(format!(
            "{} arguments expected, got {}",
            params.len(),
            args.len()
        ));
    }
    let mut head = Vec::with_capacity(32 * params.len());
    let mut tail = Vec::new();
    for (p, arg) in params.iter().zip(args) {
        let label = if p.name.is_empty() { &p.ty } else { &p.name };
        let kind = p.kind.clone().map_err(|e| format!("{label}: {e}"))?;
        if kind.is_dynamic() {
            let bytes = match kind {
                Kind::String => arg.as_bytes().to_vec(),
                _ => parse_hex(arg).map_err(|e| format!("{label}: {e}"))?,
            };
            let offset = U256::from(32 * params.len() + tail.len());
            head.extend(offset.to_be_bytes::<32>());
            tail.extend(U256::from(bytes.len()).to_be_bytes::<32>());
            tail.extend(&bytes);
            tail.resize(tail.len().div_ceil(32) * 32, 0);
        } else {
            head.extend(encode_word(kind, arg).map_err(|e| format!("{label}: {e}"))?);
        }
    }
    head.extend(tail);
    Ok(head)
}

fn word_at(data: &[u8], at: usize) -> Result<&[u8], String> {
    at.checked_add(32)
        .and_then(|end| data.get(at..end))
        .ok_or_else(|| format!("data too short: {} bytes, need a word at {at}", data.len()))
}

fn as_usize(word: &[u8]) -> Result<usize, String> {
    let v = U256::from_be_slice(word);
    usize::try_from(v).map_err(|_| format!("offset or length {v} too large"))
}

fn decode_word(kind: Kind, w: &[u8]) -> Result<Val, String> {
    let v = U256::from_be_slice(w);
    Ok(match kind {
        Kind::Uint(_) => Val::Uint(v),
        Kind::Int(_) => {
            if v.bit(255) {
                Val::Int {
                    negative: true,
                    abs: U256::ZERO.wrapping_sub(v),
                }
            } else {
                Val::Int {
                    negative: false,
                    abs: v,
                }
            }
        }
        Kind::Address => Val::Address(Address::from_slice(&w[12..32])),
        Kind::Bool => Val::Bool(!v.is_zero()),
        Kind::FixedBytes(n) => Val::Bytes(w[..usize::from(n)].to_vec()),
        Kind::Bytes | Kind::String => return Err("dynamic type in a word".into()),
    })
}

/// Decode ABI `data` as `params`.
pub fn decode(params: &[Param], data: &[u8]) -> Result<Vec<Val>, String> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let kind = p.kind.clone()?;
            let w = word_at(data, 32 * i)?;
            if !kind.is_dynamic() {
                return decode_word(kind, w);
            }
            let at = as_usize(w)?;
            let len = as_usize(word_at(data, at)?)?;
            let start = at + 32; // word_at(data, at) succeeded, so this fits
            let bytes = data
                .get(start..start.saturating_add(len))
                .ok_or_else(|| format!("{}: {len} bytes at {start} run past the data", p.ty))?;
            Ok(match kind {
                Kind::String => Val::Str(String::from_utf8_lossy(bytes).into_owned()),
                _ => Val::Bytes(bytes.to_vec()),
            })
        })
        .collect()
}

/// A revert reason from `Error(string)` return data, if it is one.
pub fn revert_reason(data: &[u8]) -> Option<String> {
    let rest = data.strip_prefix(&[0x08, 0xc3, 0x79, 0xa0])?;
    let p = Param {
        name: String::new(),
        ty: "string".into(),
        kind: Ok(Kind::String),
        indexed: false,
    };
    match decode(&[p], rest).ok()?.pop()? {
        Val::Str(s) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
#[path = "abi_tests.rs"]
mod tests;
