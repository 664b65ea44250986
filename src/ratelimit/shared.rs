//! The cost budget shared by every instance through Redis (`REDIS_URL`), kept off the
//! hot path.
//!
//! Redis holds one token bucket per spender (`<REDIS_KEY_PREFIX>budget:user:42`, refilled
//! evenly over the minute, expiring once full), changed only by one atomic Lua script
//! that grants up to the tokens asked for. Each instance keeps a local balance per spender
//! and reserves a chunk (a tenth of the budget) at a time: an operation whose cost the
//! balance covers never waits for Redis; when the balance runs low, one reservation goes
//! out in the background (at most one in flight per spender). When the balance does not
//! cover an operation but Redis, as last heard (plus its refill since), has enough, the
//! operation runs on credit (up to a chunk of debt, or one operation), repaid by the next
//! reservation; when Redis had too little, or said the bucket is empty, the spender is
//! refused until it should have refilled. A spender new to an instance runs its first
//! operation before the instance has heard from Redis, so an instance may let through at
//! most about one chunk plus one operation more than the shared budget.
//!
//! When Redis cannot be reached, the budget falls back to per instance (the caller's
//! local [`super::KeyedLimiter`]), logs it once, counts it in
//! `conduit_budget_store_fallback_total`, and tries Redis again at most once a second
//! until it answers, then shares again.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use redis::{
    Client, Script,
    aio::{ConnectionManager, ConnectionManagerConfig},
};
use tokio::sync::Notify;

use super::budget::{Charge, Refusal, Spender};
use crate::metrics::{Limit, Metrics};

/// Where the shared budget lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `REDIS_URL`, e.g. `redis://127.0.0.1:6379`.
    pub url: String,
    /// `REDIS_KEY_PREFIX` (`conduit:`): the start of every key, so that deployments (or
    /// tests) sharing one Redis do not share budgets.
    pub key_prefix: String,
}

/// Grants up to ARGV[3] tokens from the bucket KEYS[1] of ARGV[1] tokens refilled at
/// ARGV[2] per millisecond; returns {granted, left, ms until the rest would be there}.
const RESERVE: &str = r"
local size = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or size
local at = tonumber(b[2]) or now
tokens = math.min(size, tokens + math.max(0, now - at) * per_ms)
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((size - tokens) / per_ms) + 1000)
local wait = 0
if granted < want then wait = math.ceil((want - granted - tokens) / per_ms) end
return {granted, math.floor(tokens), wait}
";

/// How often (in operations) spenders idle for a minute are forgotten.
const PRUNE_EVERY: u64 = 4096;
/// The longest Redis may take to connect or answer before it counts as unreachable.
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);
/// How often an instance that fell back tries Redis again.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// One spender as this instance sees it.
#[derive(Debug)]
struct Local {
    /// Tokens reserved from Redis and not spent yet; negative: spent on credit.
    balance: i64,
    /// What Redis had left at the last reservation, and when.
    shared_left: u32,
    reserved_at: Instant,
    /// Redis said the bucket is empty: no credit until then.
    refused_until: Option<Instant>,
    /// A reservation is out.
    reserving: bool,
    last_used: Instant,
}

/// The shared budget of one instance.
pub(super) struct SharedBudget {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    manager: OnceLock<ConnectionManager>,
    script: Script,
    prefix: String,
    size: u32,
    chunk: i64,
    per_ms: f64,
    spenders: Mutex<HashMap<Spender, Local>>,
    down: AtomicBool,
    probing: AtomicBool,
    last_probe: Mutex<Option<Instant>>,
    in_flight: AtomicUsize,
    settled: Notify,
    operations: AtomicU64,
    metrics: Arc<Metrics>,
}

impl SharedBudget {
    /// The budget of `size` per minute per spender in the Redis at `config` (no
    /// connection is opened until an operation needs one).
    pub(super) fn new(
        config: &RedisConfig,
        size: u32,
        metrics: Arc<Metrics>,
    ) -> Result<Self, redis::RedisError> {
        Ok(Self {
            inner: Arc::new(Inner {
                client: Client::open(config.url.as_str())?,
                manager: OnceLock::new(),
                script: Script::new(RESERVE),
                prefix: config.key_prefix.clone(),
                size,
                chunk: i64::from((size / 10).max(1)),
                per_ms: f64::from(size) / 60_000.0,
                spenders: Mutex::default(),
                down: AtomicBool::new(false),
                probing: AtomicBool::new(false),
                last_probe: Mutex::new(None),
                in_flight: AtomicUsize::new(0),
                settled: Notify::new(),
                operations: AtomicU64::new(0),
                metrics,
            }),
        })
    }

    /// Spends `cost` from `spender`'s shared budget without waiting for Redis; `None`
    /// while Redis is unreachable (the caller then spends per instance).
    pub(super) fn spend(&self, spender: Spender, cost: u32) -> Option<Result<Charge, Refusal>> {
        let inner = &self.inner;
        if inner.down.load(Ordering::Acquire) {
            Inner::probe(inner);
            return None;
        }
        let now = Instant::now();
        let mut spenders = inner.spenders.lock().expect("budget lock");
        if inner.operations.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            spenders.retain(|_, local| {
                local.reserving || now.duration_since(local.last_used) < Duration::from_secs(60)
            });
        }
        let local = spenders.entry(spender).or_insert_with(|| Local {
            balance: 0,
            shared_left: inner.size,
            reserved_at: now,
            refused_until: None,
            reserving: false,
            last_used: now,
        });
        local.last_used = now;
        // What Redis should have by now, as far as this instance knows.
        let refilled = now.duration_since(local.reserved_at).as_millis() as f64 * inner.per_ms;
        let shared_now =
            (f64::from(local.shared_left) + refilled).min(f64::from(inner.size)) as i64;
        let cost_units = i64::from(cost);
        let refused_for = local
            .refused_until
            .filter(|until| *until > now)
            .map(|until| until - now);
        if local.refused_until.is_some() && refused_for.is_none() {
            // Refilled by now, as far as Redis said: ask again.
            local.refused_until = None;
        }
        let verdict = if local.balance >= cost_units {
            local.balance -= cost_units;
            Ok(())
        } else if let Some(wait) = refused_for {
            Err(wait)
        } else if local.balance + shared_now < cost_units {
            // Redis, last heard, did not have enough: wait for the refill.
            let missing = (cost_units - local.balance - shared_now) as f64;
            Err(Duration::from_millis((missing / inner.per_ms).ceil() as u64))
        } else if local.balance >= 0 || local.balance - cost_units >= -inner.chunk {
            // On credit, repaid by the reservation below.
            local.balance -= cost_units;
            Ok(())
        } else {
            // The reservation that would cover it is still out.
            Err(Duration::from_secs(1))
        };
        let want = (!local.reserving && refused_for.is_none() && local.balance < inner.chunk / 2)
            .then(|| inner.chunk - local.balance.min(0));
        if want.is_some() {
            local.reserving = true;
        }
        let left = (shared_now + local.balance.max(0)).clamp(0, inner.size.into());
        drop(spenders);
        if let Some(want) = want {
            Inner::reserve(inner, spender, want);
        }
        Some(match verdict {
            Ok(()) => Ok(Charge {
                cost,
                limit: inner.size,
                remaining: left as u32,
            }),
            Err(wait) => {
                inner.metrics.rate_limited(Limit::CostBudget);
                Err(Refusal {
                    cost,
                    limit: inner.size,
                    retry_after_secs: (wait.as_secs_f64().ceil() as u64).clamp(1, 60),
                })
            }
        })
    }

    /// True while Redis is unreachable (the budget is per instance).
    pub(super) fn is_down(&self) -> bool {
        self.inner.down.load(Ordering::Acquire)
    }

    /// Waits until no reservation or probe of this instance is out (for tests: what has
    /// been spent is then in Redis).
    pub(super) async fn settled(&self) {
        loop {
            let notified = self.inner.settled.notified();
            if self.inner.in_flight.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Inner {
    fn manager(&self) -> Result<ConnectionManager, redis::RedisError> {
        if let Some(manager) = self.manager.get() {
            return Ok(manager.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let manager = ConnectionManager::new_lazy_with_config(self.client.clone(), config)?;
        Ok(self.manager.get_or_init(|| manager).clone())
    }

    fn key(&self, spender: Spender) -> String {
        match spender {
            Spender::User(id) => format!("{}budget:user:{id}", self.prefix),
            Spender::Ip(ip) => format!("{}budget:ip:{ip}", self.prefix),
        }
    }

    /// Reserves `want` tokens for `spender` in the background.
    fn reserve(this: &Arc<Self>, spender: Spender, want: i64) {
        let inner = Arc::clone(this);
        inner.in_flight.fetch_add(1, Ordering::AcqRel);
        tokio::spawn(async move {
            let answer = inner.call_reserve(spender, want).await;
            {
                let mut spenders = inner.spenders.lock().expect("budget lock");
                let now = Instant::now();
                let local = spenders.entry(spender).or_insert_with(|| Local {
                    balance: 0,
                    shared_left: inner.size,
                    reserved_at: now,
                    refused_until: None,
                    reserving: false,
                    last_used: now,
                });
                local.reserving = false;
                match answer {
                    Ok((granted, left, wait_ms)) => {
                        local.balance += granted;
                        local.shared_left = u32::try_from(left).unwrap_or(0);
                        local.reserved_at = now;
                        local.refused_until = (granted < want)
                            .then(|| now + Duration::from_millis(wait_ms.max(1) as u64));
                    }
                    Err(err) => {
                        drop(spenders);
                        inner.fall_back(&err);
                    }
                }
            }
            inner.done();
        });
    }

    async fn call_reserve(
        &self,
        spender: Spender,
        want: i64,
    ) -> redis::RedisResult<(i64, i64, i64)> {
        let mut conn = self.manager()?;
        self.script
            .key(self.key(spender))
            .arg(self.size)
            .arg(self.per_ms)
            .arg(want)
            .invoke_async(&mut conn)
            .await
    }

    fn done(&self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.settled.notify_waiters();
    }

    /// Redis did not answer: per instance from now on, said once per outage.
    fn fall_back(&self, err: &redis::RedisError) {
        if !self.down.swap(true, Ordering::AcqRel) {
            tracing::warn!(error = %err, "Redis is unreachable: the cost budget is per instance until it answers again");
            self.metrics.budget_store_fell_back();
            *self.last_probe.lock().expect("probe lock") = Some(Instant::now());
        }
    }

    /// While down: tries Redis again, at most once every [`RETRY_EVERY`].
    fn probe(this: &Arc<Self>) {
        {
            let mut last = this.last_probe.lock().expect("probe lock");
            if last.is_some_and(|at| at.elapsed() < RETRY_EVERY)
                || this.probing.swap(true, Ordering::AcqRel)
            {
                return;
            }
            *last = Some(Instant::now());
        }
        let inner = Arc::clone(this);
        inner.in_flight.fetch_add(1, Ordering::AcqRel);
        tokio::spawn(async move {
            let answer = match inner.manager() {
                Ok(mut conn) => redis::cmd("PING").query_async::<String>(&mut conn).await,
                Err(err) => Err(err),
            };
            if answer.is_ok() {
                // What was reserved before the outage is forgotten: start afresh.
                inner.spenders.lock().expect("budget lock").clear();
                inner.down.store(false, Ordering::Release);
                tracing::info!("Redis answers again: the cost budget is shared again");
            }
            inner.probing.store(false, Ordering::Release);
            inner.done();
        });
    }
}
