// The variant catalogue: each fix (or pre-upstream posting, or later rework) as data — its
// commits, subject, kernel, race — plus the structural sites that show it in source. The
// detector only combines these; tests are generated from this table (fire on the fix state,
// stay silent on the parent state).

import type { RaceId, VariantId } from './types';

export interface CatalogueEntry {
  id: VariantId;
  /** Upstream commit ids, full where the sources give them, else the 12-digit abbreviation (matched as a prefix); empty for never-merged postings. */
  commits: string[];
  subject: string;
  /** Where it first appeared. */
  kernel: string;
  races: RaceId[];
  source: 'upstream' | 'patchwork';
  /** For postings: the patchwork id. */
  patchwork?: number;
  /** The commit whose behaviour it fixes (cvehound's "introduced by"), when known. */
  fixes?: string;
  /** Source signature ids (signatures.ts) that must all hold for the variant to be present. */
  sites: string[];
  /** Signature that shows the parent (unfixed) shape, when there is one. */
  parentSite?: string;
  /** The code is not public: detection is a labelled hypothesis. */
  hypothesis?: boolean;
  /** Entries whose code is identical in this file: only history can tell them apart. */
  sameCodeAs?: VariantId;
  /** Later entries that contain this one's behaviour. */
  supersededBy?: VariantId[];
  /** The series the fix belongs to: each commit, its subject and what it changes where. */
  series?: { commit: string; subject: string; changes: string }[];
  note: string;
}

export const CATALOGUE: readonly CatalogueEntry[] = [
  {
    id: 'ed07d9a021df',
    commits: ['ed07d9a021df6da53456663a76999189badc432a'],
    subject: 'netfilter: nf_conntrack: resolve clash for matching conntracks',
    kernel: 'v4.19 (stable 4.14.y, Mar 2020; never 4.9.y)',
    races: ['race1'],
    source: 'upstream',
    sites: ['race1.match-helper', 'race1.resolver-merges-matching'],
    parentSite: 'race1.resolver-nat-blocks-merge',
    supersededBy: ['rework-2020', 'reverse-2024'],
    note: 'adds nf_ct_match(); nf_ct_resolve_clash() merges when NAT was not done OR both entries match',
  },
  {
    id: 'azure-937963',
    commits: [],
    subject: 'netfilter: nf_conntrack: resolve clash for matching conntracks',
    kernel: 'Ubuntu linux-azure 4.15.0-1030.31, 4.18.0-100x (LP: #1795493)',
    races: ['race1'],
    source: 'patchwork',
    patchwork: 937963,
    sites: ['race1.match-helper', 'race1.resolver-merges-matching'],
    parentSite: 'race1.resolver-nat-blocks-merge',
    sameCodeAs: 'ed07d9a021df',
    note: 'pre-merge posting of ed07d9a021df; same code in nf_conntrack_core.c, told apart only by history',
  },
  {
    id: '4e35c1cb9460',
    commits: ['4e35c1cb9460240e983a01745b5f29fe3a4d8e39'],
    subject: 'netfilter: nf_nat: skip nat clash resolution for same-origin entries',
    kernel: 'v5.0 (stable 4.9.163, 4.14.106, 4.19.29, 4.20.16)',
    races: ['race2'],
    source: 'upstream',
    sites: ['race2.same-origin-skip'],
    parentSite: 'race2.taken-without-skip',
    note: 'nf_conntrack_tuple_taken() ignores an entry whose ORIGINAL tuple equals ours',
  },
  {
    id: '07998281c268',
    commits: ['07998281c268'],
    subject: 'netfilter: conntrack: skip identical origin tuple in same zone only',
    kernel: 'v5.12 (stable 4.9.y, 4.14.y, 4.19.y, 5.4.y, 5.10.y)',
    races: ['race2'],
    source: 'upstream',
    fixes: '4e35c1cb9460',
    sites: ['race2.same-origin-skip', 'race2.zone-check'],
    parentSite: 'race2.same-origin-skip',
    note: 'adds nf_ct_zone_equal(ct, zone, IP_CT_DIR_ORIGINAL) to the 4e35c1cb9460 condition',
  },
  {
    id: 'azure-952939',
    commits: [],
    subject: 'netfilter: nf_nat: return the same reply tuple for matching CTs',
    kernel: 'Ubuntu linux-azure 4.15.0-1030.31, 4.18.0-100x (LP: #1795493); never merged',
    races: ['race2'],
    source: 'patchwork',
    patchwork: 952939,
    sites: ['race2.gated-same-origin-skip'],
    parentSite: 'race2.taken-without-skip',
    hypothesis: true,
    note: 'code not public: recognised from history, a user-supplied patch, or a same-origin special case that is not the upstream shape (allow_clash-gated skip, or reply-tuple reuse in nf_nat_core.c)',
  },
  {
    id: 'rework-2020',
    commits: ['6a757c07e51f'],
    subject: 'netfilter: conntrack: allow insertion of clashing entries',
    kernel: 'v5.6 (series by Florian Westphal)',
    races: ['race3', 'race1'],
    source: 'upstream',
    sites: ['rework.split-resolver', 'rework.clash-harder'],
    parentSite: 'race1.resolver-nat-blocks-merge',
    supersededBy: ['reverse-2024'],
    note: 'merge moves to __nf_ct_resolve_clash(); nf_ct_resolve_clash_harder() inserts the loser in REPLY only (IPS_NAT_CLASH, 1 s); clash_resolve counter',
  },
  {
    id: 'reverse-2024',
    commits: ['a4e6a1031e77'],
    subject: 'netfilter: conntrack: add clash resolution for reverse collisions',
    kernel: 'v6.13 (Sep 2024)',
    races: ['race1'],
    source: 'upstream',
    sites: ['reverse.can-merge-helper', 'reverse.resolver-uses-can-merge'],
    note: 'merge test becomes nf_ct_can_merge() = nf_ct_match() || nf_ct_match_reverse()',
  },
  {
    id: 'nfqueue-2024',
    commits: ['8af79d3edb5fd2dce35ea0a71595b6d4f9962350'],
    subject: 'netfilter: nfnetlink_queue: remove old clash resolution logic',
    kernel: 'v6.12 (netfilter pull nf-24-09-26, applied 2024-09-26; not in 6.1.y as of Debian 6.1.192)',
    races: ['race4'],
    source: 'upstream',
    fixes: '368982cd7d1b',
    sites: ['race4.update-without-clash-logic'],
    parentSite: 'race4.nfqueue-clash-logic',
    series: [
      {
        commit: 'd8f84a9bc7c4',
        subject: "netfilter: nf_nat: don't try nat source port reallocation for reverse dir clash",
        changes: 'net/netfilter/nf_nat_core.c: the NAT tuple check also looks for a clash in the reverse direction',
      },
      {
        commit: 'a4e6a1031e77',
        subject: 'netfilter: conntrack: add clash resolution for reverse collisions',
        changes:
          'net/netfilter/nf_conntrack_core.c: nf_ct_match_reverse() and nf_ct_can_merge(); __nf_ct_resolve_clash() merges when nf_ct_can_merge() (catalogue entry reverse-2024)',
      },
      {
        commit: 'a57856c0bbc2',
        subject: 'selftests: netfilter: add reverse-clash resolution test case',
        changes: 'tools/testing/selftests/net/netfilter/',
      },
      {
        commit: '8af79d3edb5fd2dce35ea0a71595b6d4f9962350',
        subject: 'netfilter: nfnetlink_queue: remove old clash resolution logic',
        changes:
          'net/netfilter/nf_conntrack_core.c: __nf_conntrack_update() deleted and nf_conntrack_update() keeps only the helper confirm; include/linux/netfilter.h: manip_pkt leaves struct nf_nat_hook; net/netfilter/nf_nat_core.c: its .manip_pkt initialiser goes',
      },
      {
        commit: 'e306e3739d9a35c89176281f9ff6c600fcc859a4',
        subject: 'kselftest: add test for nfqueue induced conntrack race',
        changes: 'tools/testing/selftests/net/netfilter/nft_queue.sh',
      },
    ],
    note: "nfqueue's own clash handling on reinject (look up the clashing entry, swap it in, redo NAT via nf_nat_hook->manip_pkt) is removed; the core resolver (v5.6 rework, 6a757c07e51f) settles the clash at confirm. Must not be backported below v5.6",
  },
];

export function entry(id: VariantId): CatalogueEntry {
  const e = CATALOGUE.find((x) => x.id === id);
  if (!e) throw new Error(`no catalogue entry ${id}`);
  return e;
}

/** Functions that hold the race-1 merge decision in some era. */
export const RESOLVER_FUNCTIONS = ['nf_ct_resolve_clash', '__nf_ct_resolve_clash', 'nf_ct_can_merge'];
/** Functions a file must define (at least one) to be taken for nf_conntrack_core.c. */
export const CORE_ANCHORS = [
  '__nf_conntrack_confirm',
  'nf_conntrack_tuple_taken',
  'nf_ct_resolve_clash',
  'nf_conntrack_in',
  'nf_conntrack_alloc',
  'nf_conntrack_find_get',
  'nf_conntrack_hash_check_insert',
  'init_conntrack',
];
