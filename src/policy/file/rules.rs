//! The threshold decision: `threshold: k` is met when k *different* listed signers are each
//! satisfied by a *different* verified identity. One identity that matches two signer
//! entries counts once, and one signer entry matched by two identities counts once, so a
//! threshold of 2 is never met by one person signing twice. Solved as a bipartite matching
//! (augmenting paths; the sets are tiny).

/// One verified signature's identity and the signers (indices) it satisfies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// A key naming the identity: `issuer|SAN` for certificates, `key:<key id>` for keys.
    pub identity: String,
    /// Indices of the signers this identity satisfies.
    pub signers: Vec<usize>,
}

/// The largest set of (signer, identity) pairs with distinct signers and distinct
/// identities, as (signer index, identity) in signer order. The threshold is met when its
/// length reaches k.
pub fn match_threshold(candidates: &[Candidate]) -> Vec<(usize, String)> {
    let mut identities: Vec<&str> = Vec::new();
    let mut edges: Vec<Vec<usize>> = Vec::new();
    for c in candidates {
        match identities.iter().position(|i| *i == c.identity) {
            Some(at) => {
                if let Some(list) = edges.get_mut(at) {
                    for s in &c.signers {
                        if !list.contains(s) {
                            list.push(*s);
                        }
                    }
                }
            }
            None => {
                identities.push(&c.identity);
                edges.push(c.signers.clone());
            }
        }
    }
    // owner[signer] = identity index holding it
    let mut owner: std::collections::BTreeMap<usize, usize> = Default::default();
    for id in 0..identities.len() {
        let mut visited = Vec::new();
        augment(id, &edges, &mut owner, &mut visited);
    }
    owner
        .into_iter()
        .filter_map(|(signer, id)| identities.get(id).map(|i| (signer, i.to_string())))
        .collect()
}

fn augment(
    id: usize,
    edges: &[Vec<usize>],
    owner: &mut std::collections::BTreeMap<usize, usize>,
    visited: &mut Vec<usize>,
) -> bool {
    for &signer in edges.get(id).map(Vec::as_slice).unwrap_or(&[]) {
        if visited.contains(&signer) {
            continue;
        }
        visited.push(signer);
        let free = match owner.get(&signer) {
            None => true,
            Some(&other) => augment(other, edges, owner, visited),
        };
        if free {
            owner.insert(signer, id);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(identity: &str, signers: &[usize]) -> Candidate {
        Candidate { identity: identity.into(), signers: signers.to_vec() }
    }

    #[test]
    fn one_identity_twice_counts_once() {
        assert_eq!(match_threshold(&[c("alice", &[0]), c("alice", &[0])]).len(), 1);
        // alice matches both signer entries (a regex), still one identity.
        assert_eq!(match_threshold(&[c("alice", &[0, 1]), c("alice", &[0, 1])]).len(), 1);
    }

    #[test]
    fn two_identities_two_signers_count_two() {
        assert_eq!(match_threshold(&[c("alice", &[0]), c("bob", &[1])]).len(), 2);
        // Both match signer 0 only: one signer entry, counted once.
        assert_eq!(match_threshold(&[c("alice", &[0]), c("bob", &[0])]).len(), 1);
    }

    #[test]
    fn augmenting_path_finds_the_best_assignment() {
        // alice fits 0 or 1, bob only 0: the matching must give bob 0 and alice 1.
        let got = match_threshold(&[c("alice", &[0, 1]), c("bob", &[0])]);
        assert_eq!(got, vec![(0, "bob".to_string()), (1, "alice".to_string())]);
    }
}
