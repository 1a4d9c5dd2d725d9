//! Contracts panel: deploy the bundled Bank contract or a pasted artifact with a dev account
//! (`eth_sendTransaction` through the launcher: the node signs for its dev accounts), then call
//! read functions (`eth_call`) and send transactions; receipts with decoded events.
//! Encoding and decoding: [`crate::abi`].
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};
use tc_types::B256;

use super::api;
use crate::abi::{self, Abi, Artifact, Function};

/// The bundled sample contract (node/exec/contracts/Bank.json, built from Bank.sol).
const BANK_JSON: &str = include_str!("../../../node/exec/contracts/Bank.json");

/// How long to wait for a receipt.
const RECEIPT_WAIT_MS: i32 = 60_000;
const RECEIPT_POLL_MS: i32 = 400;

/// A contract on chain with its interface.
#[derive(Clone, Debug)]
struct Deployed {
    id: usize,
    name: String,
    address: String,
    abi: Arc<Abi>,
}

/// A mined transaction, as shown.
#[derive(Clone, Debug)]
struct Receipt {
    hash: String,
    success: bool,
    block: u64,
    gas_used: u64,
    contract: Option<String>,
    /// `(event name or "log", text)`.
    logs: Vec<(String, String)>,
}

/// What a function's (or the deploy button's) last run produced.
#[derive(Clone, Debug)]
enum Out {
    Pending(String),
    Values(Vec<String>),
    Receipt(Receipt),
    Error(String),
}

fn hex_u64(v: &Value) -> u64 {
    v.as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .unwrap_or(0)
}

fn parse_b256(v: &Value) -> Option<B256> {
    v.as_str()?.parse().ok()
}

/// Receipt JSON → [`Receipt`], events decoded with `abi`.
fn receipt_of(r: &Value, abi: &Abi) -> Receipt {
    let logs = r["logs"]
        .as_array()
        .map(|logs| {
            logs.iter()
                .map(|l| {
                    let topics: Vec<B256> = l["topics"]
                        .as_array()
                        .map(|t| t.iter().filter_map(parse_b256).collect())
                        .unwrap_or_default();
                    let data =
                        abi::parse_hex(l["data"].as_str().unwrap_or("0x")).unwrap_or_default();
                    match abi.decode_log(&topics, &data) {
                        Some(Ok(d)) => {
                            let args: Vec<String> =
                                d.args.iter().map(|(n, v)| format!("{n} = {v}")).collect();
                            (d.name, args.join(", "))
                        }
                        Some(Err(e)) => ("log".into(), format!("undecodable: {e}")),
                        None => (
                            "log".into(),
                            format!(
                                "{} topics, {} data bytes (not an event of this ABI)",
                                topics.len(),
                                data.len()
                            ),
                        ),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Receipt {
        hash: r["transactionHash"].as_str().unwrap_or_default().into(),
        success: r["status"].as_str() == Some("0x1"),
        block: hex_u64(&r["blockNumber"]),
        gas_used: hex_u64(&r["gasUsed"]),
        contract: r["contractAddress"].as_str().map(str::to_owned),
        logs,
    }
}

fn rpc_error(e: api::RpcError) -> String {
    let reason = e
        .data
        .as_deref()
        .and_then(|d| abi::parse_hex(d).ok())
        .and_then(|d| abi::revert_reason(&d));
    match reason {
        // Nodes that put the reason in the message already said it.
        Some(r) if !e.message.contains(&r) => format!("{} — reverted: {r}", e.message),
        _ => e.message,
    }
}

/// Send a transaction and wait for its receipt.
async fn send_and_wait(tx: Value, abi: &Abi, on_hash: impl Fn(String)) -> Result<Receipt, String> {
    let hash = api::rpc("eth_sendTransaction", json!([tx]))
        .await
        .map_err(rpc_error)?;
    let hash = hash
        .as_str()
        .ok_or("eth_sendTransaction: no hash")?
        .to_owned();
    on_hash(hash.clone());
    let mut waited = 0;
    loop {
        match api::rpc("eth_getTransactionReceipt", json!([hash])).await {
            Ok(r) if !r.is_null() => return Ok(receipt_of(&r, abi)),
            Ok(_) => {}
            Err(e) => return Err(rpc_error(e)),
        }
        if waited >= RECEIPT_WAIT_MS {
            return Err(format!(
                "{hash}: no receipt after {} s (is the committee committing?)",
                RECEIPT_WAIT_MS / 1000
            ));
        }
        api::sleep_ms(RECEIPT_POLL_MS).await;
        waited += RECEIPT_POLL_MS;
    }
}

fn out_view(out: Option<Out>) -> impl IntoView {
    out.map(|o| match o {
        Out::Pending(s) => view! { <p class="out pending">{s}</p> }.into_any(),
        Out::Error(e) => view! { <p class="out result bad">{e}</p> }.into_any(),
        Out::Values(vals) => view! {
            <p class="out values">
                {if vals.is_empty() { "(no return values)".to_owned() } else { vals.join(", ") }}
            </p>
        }
        .into_any(),
        Out::Receipt(r) => {
            let status = if r.success { "success" } else { "failed" };
            let logs = r
                .logs
                .into_iter()
                .map(|(name, text)| {
                    let tag = name.clone();
                    view! {
                        <li class="event" data-event=tag>
                            <span class="tag">{name}</span>" "{text}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div class="out receipt" data-status=status>
                    <span class=if r.success { "badge ok" } else { "badge bad" }>{status}</span>
                    {format!(" block #{} · gas {} · tx {}", r.block, r.gas_used, r.hash)}
                    {r.contract.map(|c| view! { <div>"contract at "<code class="addr">{c}</code></div> })}
                    <ul class="events">{logs}</ul>
                </div>
            }
            .into_any()
        }
    })
}

/// The panel.
pub(crate) fn contracts() -> impl IntoView {
    let accounts = RwSignal::new(Vec::<String>::new());
    let from = RwSignal::new(String::new());
    let accounts_error = RwSignal::new(None::<String>);
    spawn_local(async move {
        match api::rpc("eth_accounts", json!([])).await {
            Ok(Value::Array(a)) => {
                let list: Vec<String> = a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect();
                if let Some(first) = list.first() {
                    from.set(first.clone());
                }
                if list.is_empty() {
                    accounts_error.set(Some("eth_accounts: the node has no dev accounts".into()));
                }
                accounts.set(list);
            }
            Ok(other) => accounts_error.set(Some(format!("eth_accounts: unexpected {other}"))),
            Err(e) => accounts_error.set(Some(e.message)),
        }
    });
    let paste = RwSignal::new(String::new());
    let use_bank = RwSignal::new(true);
    let at_address = RwSignal::new(String::new());
    let ctor_args = RwSignal::new(String::new());
    let deploy_out = RwSignal::new(None::<Out>);
    let deployed = RwSignal::new(Vec::<Deployed>::new());
    let next_id = StoredValue::new(0usize);

    let artifact = move || -> Result<Artifact, String> {
        if use_bank.get_untracked() {
            Artifact::parse(BANK_JSON)
        } else {
            Artifact::parse(&paste.get_untracked())
        }
    };
    let add = move |name: String, address: String, abi: Arc<Abi>| {
        let id = next_id.get_value();
        next_id.set_value(id + 1);
        deployed.update(|d| {
            d.insert(
                0,
                Deployed {
                    id,
                    name,
                    address,
                    abi,
                },
            )
        });
    };
    let deploy = move |_| {
        let art = match artifact() {
            Ok(a) => a,
            Err(e) => return deploy_out.set(Some(Out::Error(e))),
        };
        let args = split_args(&ctor_args.get_untracked());
        let data = match art.deploy_data(&args) {
            Ok(d) => d,
            Err(e) => return deploy_out.set(Some(Out::Error(format!("constructor: {e}")))),
        };
        let sender = from.get_untracked();
        deploy_out.set(Some(Out::Pending(format!("deploying {}…", art.name))));
        spawn_local(async move {
            let abi = Arc::new(art.abi);
            let tx = json!({"from": sender, "data": format!("0x{}", abi::hex(&data))});
            let name = art.name;
            let r = send_and_wait(tx, &abi, |h| {
                deploy_out.set(Some(Out::Pending(format!(
                    "sent {h}, waiting for the receipt…"
                ))))
            })
            .await;
            match r {
                Ok(rc) => {
                    if let (true, Some(addr)) = (rc.success, rc.contract.clone()) {
                        add(name, addr, abi);
                    }
                    deploy_out.set(Some(Out::Receipt(rc)));
                }
                Err(e) => deploy_out.set(Some(Out::Error(e))),
            }
        });
    };
    let attach = move |_| {
        let addr = at_address.get_untracked().trim().to_owned();
        match (artifact(), abi::parse_hex(&addr)) {
            (Ok(a), Ok(b)) if b.len() == 20 => add(a.name, addr, Arc::new(a.abi)),
            (Err(e), _) => deploy_out.set(Some(Out::Error(e))),
            _ => deploy_out.set(Some(Out::Error(format!(
                "{addr:?} is not an address (0x + 40 hex digits)"
            )))),
        }
    };
    let ctor_hint = move || {
        use_bank.track();
        paste.track();
        match artifact() {
            Ok(a) => match &a.abi.constructor {
                Some(c) if !c.inputs.is_empty() => format!(
                    "{}: constructor({}), {} bytes of code",
                    a.name,
                    c.inputs
                        .iter()
                        .map(|p| format!("{} {}", p.ty, p.name))
                        .collect::<Vec<_>>()
                        .join(", "),
                    a.bytecode.len()
                ),
                _ => format!(
                    "{}: no constructor arguments, {} bytes of code",
                    a.name,
                    a.bytecode.len()
                ),
            },
            Err(e) => e,
        }
    };
    view! {
        <section id="contracts" class="panel wide">
            <h2>"Contracts"</h2>
            <div class="form">
                <label>
                    "account "
                    <select id="account" on:change=move |ev| from.set(event_target_value(&ev)) prop:value=move || from.get()>
                        {move || accounts.get().into_iter().map(|a| view! { <option value=a.clone()>{a.clone()}</option> }).collect_view()}
                    </select>
                </label>
                {move || accounts_error.get().map(|e| view! { <span class="result bad">{e}</span> })}
            </div>
            <div class="form">
                <label>
                    <input type="radio" name="artifact" id="use-bank" prop:checked=move || use_bank.get() on:change=move |_| use_bank.set(true) />
                    " bundled Bank (node/exec/contracts/Bank.sol)"
                </label>
                <label>
                    <input type="radio" name="artifact" id="use-paste" prop:checked=move || !use_bank.get() on:change=move |_| use_bank.set(false) />
                    " pasted artifact (solc / forge / hardhat JSON with abi and bytecode)"
                </label>
            </div>
            {move || (!use_bank.get()).then(|| view! {
                <textarea id="artifact" rows="5" placeholder="{\"abi\": [...], \"bytecode\": \"0x...\"}"
                    prop:value=move || paste.get()
                    on:input=move |ev| paste.set(event_target_value(&ev))></textarea>
            })}
            <p class="dim">{ctor_hint}</p>
            <div class="form">
                <input id="ctor-args" placeholder="constructor arguments, comma-separated" prop:value=move || ctor_args.get() on:input=move |ev| ctor_args.set(event_target_value(&ev)) />
                <button id="deploy" on:click=deploy disabled=move || from.get().is_empty()>"deploy"</button>
                <input id="at-address" placeholder="or an existing contract: 0x… (the devnet predeploys Bank at 0x000000000000000000000000000000000000bA4C)" prop:value=move || at_address.get() on:input=move |ev| at_address.set(event_target_value(&ev)) />
                <button id="attach" on:click=attach>"use at address"</button>
            </div>
            <div id="deploy-out">{move || out_view(deploy_out.get())}</div>
            <For each=move || deployed.get() key=|d: &Deployed| d.id children=move |d: Deployed| contract_view(d, from) />
        </section>
    }
}

/// Comma-separated arguments (empty input: none).
fn split_args(s: &str) -> Vec<String> {
    if s.trim().is_empty() {
        return Vec::new();
    }
    s.split(',').map(|a| a.trim().to_owned()).collect()
}

fn contract_view(d: Deployed, from: RwSignal<String>) -> impl IntoView {
    let fns = d
        .abi
        .functions
        .iter()
        .map(|f| function_view(f.clone(), d.address.clone(), d.abi.clone(), from))
        .collect_view();
    view! {
        <div class="contract" data-address=d.address.clone() data-name=d.name.clone()>
            <h3>{d.name.clone()}" at "<code class="addr">{d.address.clone()}</code></h3>
            <div class="fns">{fns}</div>
        </div>
    }
}

fn function_view(
    f: Function,
    address: String,
    abi: Arc<Abi>,
    from: RwSignal<String>,
) -> impl IntoView {
    let args: Vec<RwSignal<String>> = f
        .inputs
        .iter()
        .map(|_| RwSignal::new(String::new()))
        .collect();
    let value = RwSignal::new(String::new());
    let out = RwSignal::new(None::<Out>);
    let unsupported = f.unsupported();
    let inputs = f
        .inputs
        .iter()
        .zip(&args)
        .map(|(p, s)| {
            let s = *s;
            let ph = if p.name.is_empty() { p.ty.clone() } else { format!("{} {}", p.ty, p.name) };
            view! { <input class="arg" placeholder=ph prop:value=move || s.get() on:input=move |ev| s.set(event_target_value(&ev)) /> }
        })
        .collect_view();
    let payable = f.is_payable().then(|| {
        view! { <input class="value" placeholder="value: wei, or 0.5 ether" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) /> }
    });
    let read = f.is_read();
    let label = if read { "call" } else { "send" };
    let name = f.name.clone();
    let sig = f.signature();
    let f = Arc::new(f);
    let run = move |_| {
        let vals: Vec<String> = args.iter().map(|s| s.get_untracked()).collect();
        let data = match f.calldata(&vals) {
            Ok(d) => format!("0x{}", abi::hex(&d)),
            Err(e) => return out.set(Some(Out::Error(e))),
        };
        let wei = match abi::parse_amount(&value.get_untracked()) {
            Ok(v) => v,
            Err(e) => return out.set(Some(Out::Error(format!("value: {e}")))),
        };
        let (f, abi, address) = (f.clone(), abi.clone(), address.clone());
        let mut tx = json!({"from": from.get_untracked(), "to": address, "data": data});
        if !wei.is_zero() {
            tx["value"] = json!(format!("0x{wei:x}"));
        }
        out.set(Some(Out::Pending(format!("{}…", f.name))));
        spawn_local(async move {
            let result = if read {
                match api::rpc("eth_call", json!([tx, "latest"])).await {
                    Ok(v) => {
                        let bytes = abi::parse_hex(v.as_str().unwrap_or("0x")).unwrap_or_default();
                        match f.decode_output(&bytes) {
                            Ok(vals) => Out::Values(vals.iter().map(ToString::to_string).collect()),
                            Err(e) => Out::Error(format!("cannot decode the result: {e}")),
                        }
                    }
                    Err(e) => Out::Error(rpc_error(e)),
                }
            } else {
                match send_and_wait(tx, &abi, |h| {
                    out.set(Some(Out::Pending(format!("sent {h}…"))))
                })
                .await
                {
                    Ok(r) => Out::Receipt(r),
                    Err(e) => Out::Error(e),
                }
            };
            out.set(Some(result));
        });
    };
    view! {
        <div class="fn" data-fn=name.clone()>
            <code class="sig">{sig}</code>
            {read.then_some(view! { <span class="dim">"view"</span> })}
            {inputs}
            {payable}
            {match unsupported {
                Some(why) => view! { <span class="dim">{why}</span> }.into_any(),
                None => view! { <button class="invoke" on:click=run>{label}</button> }.into_any(),
            }}
            {move || out_view(out.get())}
        </div>
    }
}
