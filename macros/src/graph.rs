//! The graph of direct calls between the functions a macro can see, and
//! what it shows: a lock taken again by a function that its holder reaches
//! (re-entrance, which fails at run time with `Error::Reentrant`, in a
//! thread as in an async task), and the
//! order in which locks are taken (for lock-order inversions).
//!
//! A node is a function: a free function or a method of the module, or a
//! function declared in another's body; or a stretch of a function's body
//! that holds a lock taken by hand (`let guard = Lock::new("x")
//! .acquire()?;` and the calls after it), whose calls are the function's
//! calls made meanwhile. Its owner is the item the user wrote at the top
//! (the function itself, for one declared in a body): the attribute on one
//! function reports what stays within its owner, the module attribute
//! what crosses from one to another (and everything held by hand), so
//! that nothing is reported twice.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;

use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::facts::{Call, Callee, FnFacts, LockNew};
use crate::locks::{LockId, LockName};

pub(crate) type NodeId = usize;

pub(crate) struct Node {
    /// `f`, or `Type::f`.
    pub(crate) display: String,
    pub(crate) owner: usize,
    /// The locks held while it runs.
    pub(crate) locks: Vec<Held>,
    /// Not a function: a lock taken by hand, held for a stretch of a
    /// function's body (its calls are those made meanwhile).
    pub(crate) hold: bool,
    /// Its locks are taken in the order of `locks` (stacked attributes
    /// expanded together: not when one goes by another name).
    in_order: bool,
    /// An `async fn`: a call runs it only when awaited.
    is_async: bool,
    /// `Lock::new` calls whose lock is known.
    lock_news: Vec<KnownLockNew>,
    /// Resolved calls.
    calls: Vec<Edge>,
}

/// A lock held while a node runs.
pub(crate) struct Held {
    pub(crate) lock: LockName,
    /// Taking it may wait (not a zero timeout).
    pub(crate) waits: bool,
    /// Where it is taken (an attribute's name, or `Lock::new`), for errors.
    pub(crate) at: TokenStream,
}

/// A `Lock::new(..)` acquired, whose lock is known.
struct KnownLockNew {
    lock: LockName,
    /// The call, for errors.
    at: TokenStream,
    /// `.acquire()`, not `.try_acquire()`.
    waits: bool,
}

/// A call resolved to a function of the graph.
struct Edge {
    target: NodeId,
    /// The callee as written, for errors.
    at: TokenStream,
    /// Awaited where it is made (see `Call::awaited`).
    awaited: bool,
}

/// Calls of one function, to be resolved in its scope.
struct Pending {
    id: NodeId,
    scope: Scope,
    calls: Vec<Call>,
}

/// How the calls of one function are resolved.
#[derive(Clone, Default)]
pub(crate) struct Scope {
    /// The type of the impl the function is in, for `Self::f` and `self.f`.
    pub(crate) self_type: Option<String>,
    /// Functions declared in enclosing bodies, innermost last: a function
    /// declared in a block is visible in the whole block.
    locals: Vec<HashMap<String, NodeId>>,
}

impl Scope {
    pub(crate) fn in_impl(self_type: String) -> Self {
        Scope {
            self_type: Some(self_type),
            locals: Vec::new(),
        }
    }
}

/// Where the functions of the module are: free functions by name, methods
/// by type and name.
#[derive(Default)]
pub(crate) struct Items {
    pub(crate) free: HashMap<String, NodeId>,
    /// Inherent methods, by type and name.
    pub(crate) methods: HashMap<(String, String), NodeId>,
    /// Methods of trait impls, by type, trait and name: only a qualified
    /// path (`<Type as Trait>::f`) names them for sure, since an inherent
    /// method of the same name (anywhere in the crate) wins otherwise.
    pub(crate) trait_methods: HashMap<(String, String, String), NodeId>,
}

#[derive(Default)]
pub(crate) struct Graph {
    pub(crate) nodes: Vec<Node>,
    /// Calls not yet resolved, with the scope they are resolved in.
    pending: Vec<Pending>,
}

impl Graph {
    /// Adds `facts` and the functions declared in its body (owned by
    /// `owner`); their calls are resolved by [`Graph::resolve`].
    pub(crate) fn add(
        &mut self,
        facts: FnFacts,
        display: String,
        owner: usize,
        scope: Scope,
    ) -> NodeId {
        let id = self.alloc(owner);
        self.fill(id, facts, display, scope);
        id
    }

    fn alloc(&mut self, owner: usize) -> NodeId {
        self.nodes.push(Node {
            display: String::new(),
            owner,
            locks: Vec::new(),
            hold: false,
            in_order: false,
            is_async: false,
            lock_news: Vec::new(),
            calls: Vec::new(),
        });
        self.nodes.len() - 1
    }

    fn fill(&mut self, id: NodeId, facts: FnFacts, display: String, scope: Scope) {
        let FnFacts {
            locks,
            body,
            is_async,
            ..
        } = facts;
        let owner = self.nodes[id].owner;
        let node = &mut self.nodes[id];
        node.display = display.clone();
        node.is_async = is_async;
        node.in_order = locks.iter().all(|taken| taken.by_own_name);
        node.locks = locks
            .into_iter()
            .map(|taken| Held {
                at: taken.lit.to_token_stream(),
                lock: taken.lock,
                waits: taken.waits,
            })
            .collect();
        node.lock_news = known(body.lock_news);
        // Functions declared in this body: callable by name from it and
        // from each other. (Methods of impls declared here are not
        // followed.)
        let children: Vec<(NodeId, FnFacts)> = body
            .fns
            .into_iter()
            .map(|facts| (self.alloc(owner), facts))
            .collect();
        let mut local = HashMap::new();
        for (child, facts) in &children {
            local.entry(facts.ident.to_string()).or_insert(*child);
        }
        let mut own_scope = scope;
        own_scope.locals.push(local);
        // A function declared in a body doesn't see the impl's `Self`.
        let child_scope = Scope {
            self_type: None,
            locals: own_scope.locals.clone(),
        };
        for (child, facts) in children {
            let display = facts.ident.to_string();
            self.fill(child, facts, display, child_scope.clone());
        }
        // Locks held by hand: nodes of their own, whose calls are those
        // made while the lock is held, resolved as the function's.
        for hold in body.holds {
            let node_id = self.alloc(owner);
            let node = &mut self.nodes[node_id];
            node.display = display.clone();
            node.hold = true;
            node.locks = vec![Held {
                lock: hold.lock,
                waits: hold.waits,
                at: hold.at,
            }];
            node.lock_news = known(hold.lock_news);
            self.pending.push(Pending {
                id: node_id,
                scope: own_scope.clone(),
                calls: hold.calls,
            });
        }
        self.pending.push(Pending {
            id,
            scope: own_scope,
            calls: body.calls,
        });
    }

    /// Resolves every call added so far, to the functions in `items` or
    /// declared in bodies; calls to anything else are dropped.
    pub(crate) fn resolve(&mut self, items: &Items) {
        for Pending { id, scope, calls } in std::mem::take(&mut self.pending) {
            let resolved = calls
                .into_iter()
                .filter_map(|call| {
                    Some(Edge {
                        target: resolve(&call.callee, &scope, items)?,
                        at: call.at,
                        awaited: call.awaited,
                    })
                })
                .collect();
            self.nodes[id].calls = resolved;
        }
    }

    /// What happens while `start` runs, holding the locks of its
    /// attributes: the places that take one of them again (each once, by
    /// its shortest chain), and every other lock it takes, with the lock
    /// held meanwhile (for lock order).
    pub(crate) fn walk(&self, start: NodeId) -> Walk {
        let mut walk = Walk::default();
        let mut places: HashSet<(NodeId, Site, LockId)> = HashSet::new();
        let node = &self.nodes[start];
        let locks = &node.locks;
        // Stacked attributes take their locks in the order written.
        let stacked = if node.in_order { locks.len() } else { 0 };
        for (first, held) in locks.iter().enumerate().take(stacked) {
            for (index, later) in locks.iter().enumerate().skip(first + 1) {
                if later.waits && later.lock.id != held.lock.id {
                    walk.orders.push(Taken {
                        held: held.lock.clone(),
                        step: Step {
                            path: vec![start],
                            site: Site::Attr(index),
                            at: later.at.clone(),
                            taken: later.lock.clone(),
                            again: false,
                        },
                    });
                }
            }
        }
        for held in locks {
            for step in self.explore(start, &held.lock) {
                let taken = Taken {
                    held: held.lock.clone(),
                    step,
                };
                if !taken.step.again {
                    walk.orders.push(taken);
                } else if places.insert(taken.key()) {
                    walk.again.push(taken);
                }
            }
        }
        walk
    }

    /// Every lock taken, directly or through calls, while `start` holds
    /// `held`, breadth first, so that each is found by its shortest chain.
    /// A chain stops where the lock is taken again.
    fn explore(&self, start: NodeId, held: &LockName) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut seen = vec![false; self.nodes.len()];
        seen[start] = true;
        let mut queue = VecDeque::from([vec![start]]);
        while let Some(path) = queue.pop_front() {
            let node = &self.nodes[path[path.len() - 1]];
            for (index, new) in node.lock_news.iter().enumerate() {
                let again = new.lock.id == held.id;
                if !again && !new.waits {
                    // `try_acquire` never waits: no part in any order.
                    continue;
                }
                steps.push(Step {
                    path: path.clone(),
                    site: Site::LockNew(index),
                    at: new.at.clone(),
                    taken: new.lock.clone(),
                    again,
                });
            }
            for (index, edge) in node.calls.iter().enumerate() {
                // An `async fn` called runs nothing until its future is
                // awaited: here only when awaited at once.
                if self.nodes[edge.target].is_async && !edge.awaited {
                    continue;
                }
                let mut next = path.clone();
                next.push(edge.target);
                let locks = &self.nodes[edge.target].locks;
                if let Some(same) = locks.iter().find(|taken| taken.lock.id == held.id) {
                    steps.push(Step {
                        path: next,
                        site: Site::Call(index),
                        at: edge.at.clone(),
                        taken: same.lock.clone(),
                        again: true,
                    });
                    continue;
                }
                // A lock taken with a zero timeout never waits: it takes no
                // part in any order.
                for taken in locks.iter().filter(|taken| taken.waits) {
                    steps.push(Step {
                        path: next.clone(),
                        site: Site::Call(index),
                        at: edge.at.clone(),
                        taken: taken.lock.clone(),
                        again: false,
                    });
                }
                if !seen[edge.target] {
                    seen[edge.target] = true;
                    queue.push_back(next);
                }
            }
        }
        steps
    }

    /// `a → b → c`.
    pub(crate) fn chain(&self, path: &[NodeId]) -> String {
        let mut chain = String::new();
        for (i, id) in path.iter().enumerate() {
            if i > 0 {
                chain.push_str(" → ");
            }
            let _ = write!(chain, "{}", self.nodes[*id].display);
        }
        chain
    }

    /// Whether `path` goes from one owner to another.
    pub(crate) fn crosses_owners(&self, path: &[NodeId]) -> bool {
        path.iter()
            .any(|id| self.nodes[*id].owner != self.nodes[path[0]].owner)
    }

    /// The error for a lock taken again, at the place that takes it.
    pub(crate) fn reentrance_error(&self, held: &LockName, step: &Step) -> syn::Error {
        let lock = held.describe();
        let path = &step.path;
        let holder = &self.nodes[path[0]].display;
        let chain = self.chain(path);
        let last = &self.nodes[path[path.len() - 1]];
        let again = TAKING_AGAIN;
        let message = match step.site {
            Site::LockNew(_) | Site::Attr(_) if path.len() == 1 => format!(
                "`{holder}` already holds lock {lock} here (its #[mysql_lock]): acquiring it again \
                 {again}; this code already runs under the lock, so remove this `Lock`, or give \
                 one of the two another name"
            ),
            Site::LockNew(_) | Site::Attr(_) => format!(
                "lock {lock} is taken again here, while `{holder}` holds it: {chain} reaches this \
                 `Lock`, and acquiring it {again}; don't take the lock again on this path, or \
                 give one of the two another name"
            ),
            Site::Call(_) if path.len() == 2 && path[1] == path[0] => format!(
                "`{holder}` calls itself while holding lock {lock}: the inner call {again}; put \
                 the recursive work in a function without #[mysql_lock] and call that one"
            ),
            Site::Call(_) if path[path.len() - 1] == path[0] => format!(
                "this call re-enters `{holder}` while it holds lock {lock} ({chain}): it {again}; \
                 call a function without #[mysql_lock] here, or break the cycle"
            ),
            Site::Call(_) => {
                let taker = &last.display;
                format!(
                    "`{taker}` takes lock {lock}, which `{holder}` already holds when it calls \
                     `{taker}` ({chain}): the call {again}; call a function without \
                     #[mysql_lock] here, or give the two locks different names"
                )
            }
        };
        syn::Error::new_spanned(&step.at, message)
    }
}

/// What taking a held lock again does at run time: the thread (or, for
/// async locks, the task) that holds it is refused at once.
pub(crate) const TAKING_AGAIN: &str = "would fail at run time with `Error::Reentrant`";

/// The `Lock::new`s whose lock is known.
fn known(lock_news: Vec<LockNew>) -> Vec<KnownLockNew> {
    lock_news
        .into_iter()
        .filter_map(|new| {
            Some(KnownLockNew {
                lock: new.lock?,
                at: new.at,
                waits: new.waits,
            })
        })
        .collect()
}

fn resolve(callee: &Callee, scope: &Scope, items: &Items) -> Option<NodeId> {
    let self_type = |ty: &String| match ty.as_str() {
        "Self" => scope.self_type.clone(),
        _ => Some(ty.clone()),
    };
    match callee {
        Callee::Path(path) => match path.as_slice() {
            [name] => scope
                .locals
                .iter()
                .rev()
                .find_map(|local| local.get(name).copied())
                .or_else(|| items.free.get(name).copied()),
            [module, name] if module == "self" => items.free.get(name).copied(),
            [ty, name] => items.methods.get(&(self_type(ty)?, name.clone())).copied(),
            _ => None,
        },
        Callee::Qualified { ty, trait_, name } => {
            let ty = self_type(ty)?;
            match trait_ {
                Some(trait_) => items
                    .trait_methods
                    .get(&(ty, trait_.clone(), name.clone()))
                    .copied(),
                None => items.methods.get(&(ty, name.clone())).copied(),
            }
        }
        Callee::SelfMethod(name) => {
            let ty = scope.self_type.as_ref()?;
            items.methods.get(&(ty.clone(), name.clone())).copied()
        }
    }
}

/// What a walk from one function finds.
#[derive(Default)]
pub(crate) struct Walk {
    /// Places that take a lock already held, each once.
    pub(crate) again: Vec<Taken>,
    /// Other locks taken while one is held.
    pub(crate) orders: Vec<Taken>,
}

/// A lock taken while `held` is held.
pub(crate) struct Taken {
    pub(crate) held: LockName,
    pub(crate) step: Step,
}

impl Taken {
    /// The place that takes the lock, and the lock held: one mistake.
    pub(crate) fn key(&self) -> (NodeId, Site, LockId) {
        let (node, site) = self.step.place();
        (node, site, self.held.id.clone())
    }
}

/// A lock taken while another is held.
pub(crate) struct Step {
    /// From the holder to the function that takes the lock.
    pub(crate) path: Vec<NodeId>,
    /// Which call or `Lock::new` of its function takes the lock.
    pub(crate) site: Site,
    /// The call or the `Lock::new`, for errors.
    pub(crate) at: TokenStream,
    pub(crate) taken: LockName,
    /// The lock taken is the one held.
    pub(crate) again: bool,
}

impl Step {
    /// Identifies the place that takes the lock: the function and which of
    /// its calls or `Lock::new`s.
    pub(crate) fn place(&self) -> (NodeId, Site) {
        let last = if matches!(self.site, Site::Call(_)) {
            self.path[self.path.len() - 2]
        } else {
            self.path[self.path.len() - 1]
        };
        (last, self.site)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Site {
    /// The n-th lock of the function's stacked attributes.
    Attr(usize),
    /// The n-th call of the function.
    Call(usize),
    /// The n-th `Lock::new` of the function.
    LockNew(usize),
}
