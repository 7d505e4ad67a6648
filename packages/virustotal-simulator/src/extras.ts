import type { ObjectKind } from './observables.js';
import type { Outcome } from './outcome.js';
import { digest, SeededRandom } from './rng.js';

/**
 * The attributes the base generator leaves out and the field's clients read: fuzzy hashes,
 * TrID, ExifTool, type tags, Magika, threat severity, crowdsourced YARA / IDS / Sigma, sandbox
 * verdicts, Google Threat Intelligence's `gti_assessment` (files); `last_https_certificate` and
 * `jarm` (domains, IPs); `last_http_response_headers` (URLs). Each has the type and shape of
 * the real captures (see the README's table). They come from their own PRNG stream, so adding
 * them changed no value the base generator already produced.
 */

const DAY = 86_400;

/** VirusTotal's GTI verdict, severity and sandbox category vocabularies, as in the captures. */
export type GtiVerdict = 'VERDICT_MALICIOUS' | 'VERDICT_SUSPICIOUS' | 'VERDICT_BENIGN' | 'VERDICT_UNDETECTED';
export type Severity = 'SEVERITY_NONE' | 'SEVERITY_LOW' | 'SEVERITY_MEDIUM' | 'SEVERITY_HIGH';
export type SandboxCategory = 'malicious' | 'suspicious' | 'harmless' | 'undetected';

/**
 * What a test can force on a generated object (simulator option `depth`, per observable).
 * Unset parts follow the object's outcome, deterministically.
 */
export interface DepthControl {
  /** `gti_assessment`: verdict, threat score (0-100) and severity; `null` removes it. */
  gti?: { verdict: GtiVerdict; threatScore: number; severity: Severity } | null;
  /** Sandbox verdicts by sandbox name (`{}`: none). */
  sandboxes?: Record<string, SandboxCategory>;
  /** Crowdsourced IDS alerts per severity. */
  ids?: Partial<Record<'high' | 'medium' | 'low' | 'info', number>>;
  /** Crowdsourced Sigma matches per level. */
  sigma?: Partial<Record<'critical' | 'high' | 'medium' | 'low', number>>;
  /** How many crowdsourced YARA rules match. */
  yara?: number;
}

const TYPE_TAGS: Record<string, string[]> = {
  peexe: ['executable', 'windows', 'win32', 'pe', 'peexe'],
  pedll: ['executable', 'windows', 'win32', 'pe', 'pedll'],
  pdf: ['pdf'],
  doc: ['msoffice', 'doc'],
  zip: ['compressed', 'zip'],
  elf: ['executable', 'linux', 'elf'],
  android: ['executable', 'android', 'apk'],
  powershell: ['source', 'powershell', 'ps', 'ps1'],
  javascript: ['source', 'javascript', 'js'],
};
const MAGIKA: Record<string, string> = { peexe: 'PEBIN', pedll: 'PEBIN', pdf: 'PDF', doc: 'DOC', zip: 'ZIP', elf: 'ELF', android: 'APK', powershell: 'POWERSHELL', javascript: 'JAVASCRIPT' };
const TRID: Record<string, Array<[string, number]>> = {
  peexe: [['Win32 Executable MS Visual C++ (generic)', 37.8], ['Win64 Executable (generic)', 33.5], ['Win32 Dynamic Link Library (generic)', 7.9]],
  pedll: [['Win32 Dynamic Link Library (generic)', 27.1], ['Win16 NE executable (generic)', 20.8], ['Win32 Executable (generic)', 18.5]],
  pdf: [['Adobe Portable Document Format', 100]],
  doc: [['Microsoft Word document', 58.2], ['Microsoft Word document (old ver.)', 34.3]],
  zip: [['ZIP compressed archive', 100]],
  elf: [['ELF Executable and Linkable format (Linux)', 50.1], ['ELF Executable and Linkable format (generic)', 49.9]],
  android: [['Android Package', 63.6], ['Java Archive', 23.1], ['ZIP compressed archive', 13.3]],
  powershell: [['file seems to be plain text/ASCII', 0]],
  javascript: [['file seems to be plain text/ASCII', 0]],
};
const MIME: Record<string, string> = {
  peexe: 'application/octet-stream',
  pedll: 'application/octet-stream',
  pdf: 'application/pdf',
  doc: 'application/msword',
  zip: 'application/zip',
  elf: 'application/octet-stream',
  android: 'application/zip',
  powershell: 'text/plain',
  javascript: 'text/plain',
};

const YARA_RULES = [
  { ruleset_name: 'Windows_API_Function', author: 'InQuest Labs', source: 'https://github.com/InQuest/yara-rules-vt', description: 'Detects the presence of Windows API functionality often seen within embedded executables.' },
  { ruleset_name: 'SUSP_XORed_URL_In_EXE', author: 'Florian Roth', source: 'https://github.com/Neo23x0/signature-base', description: 'Detects an XORed URL in an executable' },
  { ruleset_name: 'Base64_Encoded_URL', author: 'InQuest Labs', source: 'https://github.com/InQuest/yara-rules-vt', description: 'Detects a base64-encoded URL.' },
  { ruleset_name: 'MAL_Stealer_Generic', author: 'ditekSHen', source: 'https://github.com/ditekshen/detection', description: 'Detects information-stealer behaviour strings' },
  { ruleset_name: 'PowerShell_Susp_Parameter_Combo', author: 'Florian Roth', source: 'https://github.com/Neo23x0/signature-base', description: 'Detects PowerShell invocation with suspicious parameters' },
  { ruleset_name: 'RAT_Generic_Strings', author: 'ditekSHen', source: 'https://github.com/ditekshen/detection', description: 'Detects remote-access trojan configuration strings' },
];
const IDS_RULES: Record<'high' | 'medium' | 'low' | 'info', Array<{ rule_msg: string; rule_category: string }>> = {
  high: [
    { rule_msg: 'ET MALWARE Possible Malicious Macro DL EXE Feb 2016', rule_category: 'A Network Trojan was detected' },
    { rule_msg: 'ET TROJAN Generic - POST To .php w/Extended ASCII Characters', rule_category: 'A Network Trojan was detected' },
  ],
  medium: [{ rule_msg: 'ET INFO Executable Download from dotted-quad Host', rule_category: 'Potentially Bad Traffic' }],
  low: [{ rule_msg: 'ET USER_AGENTS Microsoft Dr Watson User-Agent (MSDW)', rule_category: 'Unknown Traffic' }],
  info: [{ rule_msg: 'ET INFO TLS Handshake Failure', rule_category: 'Misc activity' }],
};
const SIGMA_RULES = [
  { rule_title: 'Suspicious Encoded PowerShell Command Line', rule_author: 'Florian Roth' },
  { rule_title: 'Process Creation Using Sysnative Folder', rule_author: 'Max Altgelt' },
  { rule_title: 'Non Interactive PowerShell Process Spawned', rule_author: 'Roberto Rodriguez' },
  { rule_title: 'Scheduled Task Creation', rule_author: 'Florian Roth' },
];
const SIGMA_SOURCE = 'Sigma Integrated Rule Set (GitHub)';
const SANDBOXES = ['Zenbox', 'C2AE', 'SecondWrite', 'Yomi Hunter'];
const ISSUERS = [
  { C: 'US', O: "Let's Encrypt", CN: 'R3' },
  { C: 'US', O: 'DigiCert Inc', CN: 'DigiCert TLS Hybrid ECC SHA384 2020 CA1' },
  { C: 'US', O: 'Google Trust Services', CN: 'WR2' },
];

function b64(rng: SeededRandom, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[rng.int(0, 63)];
  return out;
}

/** `384:b/10qDSHal5…:b/yqD3PDD…`: block size, then two base64 signatures. */
function ssdeep(rng: SeededRandom, size: number): string {
  let block = 3;
  while (block * 64 < size) block *= 2;
  return `${block}:${b64(rng, rng.int(30, 64))}:${b64(rng, rng.int(15, 40))}`;
}

function randomCounts(rng: SeededRandom, keys: readonly string[], most: number): Record<string, number> {
  return Object.fromEntries(keys.map((key) => [key, rng.int(0, most)]));
}

/** One result per count, level by level in `order` (most severe first, as the captures list them). */
function perLevel<L extends string>(counts: Record<L, number>, order: readonly L[], make: (level: L, i: number) => Record<string, unknown>): Array<Record<string, unknown>> {
  const results: Array<Record<string, unknown>> = [];
  for (const level of order) for (let i = 0; i < counts[level]; i++) results.push(make(level, i));
  return results;
}

function gtiFor(outcome: Outcome): NonNullable<DepthControl['gti']> {
  if (outcome.malicious >= 5) return { verdict: 'VERDICT_MALICIOUS', threatScore: Math.min(100, 60 + outcome.malicious), severity: outcome.malicious >= 30 ? 'SEVERITY_HIGH' : 'SEVERITY_MEDIUM' };
  if (outcome.malicious > 0 || outcome.suspicious >= 3) return { verdict: 'VERDICT_SUSPICIOUS', threatScore: 30 + outcome.malicious * 5, severity: 'SEVERITY_LOW' };
  return { verdict: 'VERDICT_UNDETECTED', threatScore: 1, severity: 'SEVERITY_NONE' };
}

function gtiAssessment(gti: NonNullable<DepthControl['gti']>): Record<string, unknown> {
  const words: Record<GtiVerdict, string> = {
    VERDICT_MALICIOUS: 'This indicator is malicious.',
    VERDICT_SUSPICIOUS: 'This indicator is suspicious.',
    VERDICT_BENIGN: 'This indicator was determined as benign and likely poses no threat.',
    VERDICT_UNDETECTED: 'This indicator did not match our detection criteria and there is currently no evidence of malicious activity.',
  };
  return {
    verdict: { value: gti.verdict },
    threat_score: { value: gti.threatScore },
    severity: { value: gti.severity },
    contributing_factors: { malicious_sandbox_verdict: gti.verdict === 'VERDICT_MALICIOUS', gti_confidence_score: Math.round(gti.threatScore / 2), pervasive_indicator: gti.verdict === 'VERDICT_UNDETECTED' },
    description: words[gti.verdict],
  };
}

/** A ruleset id (10 hex, as in the captures) whose first byte is the rule's index in YARA_RULES. */
function yaraRulesetId(index: number, rng: SeededRandom): string {
  return index.toString(16).padStart(2, '0') + rng.hex(8);
}

/** The generated ruleset ids (10 hex, as in the captures) and the rule text `/yara_rulesets/{id}` serves. */
export function yaraRuleset(seed: string, id: string): Record<string, unknown> | undefined {
  const match = /^[0-9a-f]{10}$/.exec(id);
  if (!match) return undefined;
  const rng = new SeededRandom(digest(seed, 'yara_ruleset', id));
  // The id's first byte names the rule (see yaraRulesetId), so the ruleset served agrees with the match that named it.
  const rule = YARA_RULES[parseInt(id.slice(0, 2), 16) % YARA_RULES.length]!;
  const name = rule.ruleset_name;
  const text = `rule ${name}\n{\n  meta:\n    author = "${rule.author}"\n    description = "${rule.description}"\n  strings:\n    $a = "${rng.hex(8)}" ascii wide\n    $b = { ${rng.hex(8).match(/../g)!.join(' ')} }\n  condition:\n    any of them\n}\n`;
  return {
    data: {
      type: 'yara_ruleset',
      id,
      links: { self: `https://www.virustotal.com/api/v3/yara_rulesets/${id}` },
      attributes: { name, rule_names: [name], rules: text, source: rule.source, author: rule.author, enabled: true, limit: 100, last_modification_date: 1_735_689_600 - rng.int(0, 400) * DAY },
    },
  };
}

/** The extra attributes of one generated object, in the order the captures list them. */
export function depthAttributes(
  seed: string,
  kind: ObjectKind,
  identity: string,
  outcome: Outcome,
  base: Record<string, unknown>,
  analysisDate: number,
  gtiEnabled: boolean,
  control: DepthControl | undefined,
): Record<string, unknown> {
  if (outcome.status === 'not_found') return {};
  const rng = new SeededRandom(digest(seed, 'depth', kind, identity));
  const bad = outcome.malicious >= 5;
  const extra: Record<string, unknown> = {};
  const gti = control?.gti === null ? null : (control?.gti ?? gtiFor(outcome));
  switch (kind) {
    case 'file': {
      const tag = String(base.type_tag);
      const size = Number(base.size);
      const pe = tag === 'peexe' || tag === 'pedll';
      extra.ssdeep = ssdeep(rng, size);
      extra.tlsh = `T1${rng.hex(70).toUpperCase()}`;
      extra.vhash = `${rng.int(10, 99)}${rng.hex(4)}${rng.int(10, 99)}d${rng.hex(6)}z${rng.int(1, 30)}z${rng.hex(2)}z${rng.int(1, 9)}`;
      extra.trid = (TRID[tag] ?? [['file seems to be plain text/ASCII', 0]]).map(([file_type, probability]) => ({ file_type, probability }));
      extra.exiftool = { MIMEType: MIME[tag] ?? 'application/octet-stream', FileType: String(base.type_description), FileTypeExtension: String(base.type_extension), ...(pe ? { PEType: 'PE32', MachineType: 'Intel 386 or later, and compatibles', Subsystem: 'Windows GUI' } : {}) };
      extra.type_tags = TYPE_TAGS[tag] ?? [tag];
      extra.magika = MAGIKA[tag] ?? 'UNKNOWN';
      const severity: Severity = bad ? (outcome.malicious >= 30 ? 'SEVERITY_HIGH' : 'SEVERITY_MEDIUM') : outcome.malicious > 0 ? 'SEVERITY_LOW' : 'SEVERITY_NONE';
      extra.threat_severity = {
        version: 5,
        threat_severity_level: severity,
        threat_severity_data: bad ? { num_gav_detections: rng.int(1, 5), popular_threat_category: 'trojan' } : {},
        last_analysis_date: String(analysisDate),
        level_description: severity === 'SEVERITY_NONE' ? 'No severity score data' : `Severity ${severity.slice(9)} because of its detections.`,
      };
      if (pe && rng.next() < 0.5) {
        extra.signature_info = bad
          ? { verified: 'Unsigned', description: 'Setup', product: 'Setup', 'file version': '1.0.0.0' }
          : { verified: 'Signed', signers: 'Microsoft Windows; Microsoft Windows Production PCA 2011', product: 'Microsoft® Windows® Operating System', copyright: '© Microsoft Corporation. All rights reserved.', 'signing date': '06:48 AM 08/24/2024' };
      }
      // Crowdsourced YARA: matches on most detected files and a few clean ones.
      const yaraCount = control?.yara ?? (bad ? rng.int(1, 4) : rng.next() < 0.15 ? 1 : 0);
      if (yaraCount > 0) {
        extra.crowdsourced_yara_results = Array.from({ length: yaraCount }, (_, i) => {
          const index = (rng.int(0, YARA_RULES.length - 1) + i) % YARA_RULES.length;
          const rule = YARA_RULES[index]!;
          return { ruleset_id: yaraRulesetId(index, rng), rule_name: rule.ruleset_name, ruleset_name: rule.ruleset_name, description: rule.description, author: rule.author, match_date: analysisDate - rng.int(0, 30) * DAY, source: rule.source };
        });
      }
      const ids = control?.ids ?? (bad && rng.next() < 0.6 ? randomCounts(rng, ['high', 'medium', 'low', 'info'], 3) : undefined);
      if (ids) {
        // Key order as in the captures' crowdsourced_ids_stats.
        const stats = { high: ids.high ?? 0, info: ids.info ?? 0, medium: ids.medium ?? 0, low: ids.low ?? 0 };
        extra.crowdsourced_ids_results = perLevel(stats, ['high', 'medium', 'low', 'info'], (level, i) => {
          const rule = IDS_RULES[level][i % IDS_RULES[level].length]!;
          return { ...rule, alert_severity: level, rule_id: `1:${rng.int(2_000_000, 2_999_999)}`, rule_source: 'Proofpoint Emerging Threats Open', rule_url: 'https://rules.emergingthreats.net/', alert_context: [{ dest_ip: `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`, dest_port: rng.pick([80, 443, 8080]) }] };
        });
        extra.crowdsourced_ids_stats = stats;
      }
      const sigma = control?.sigma ?? (bad && rng.next() < 0.5 ? randomCounts(rng, ['critical', 'high', 'medium', 'low'], 4) : undefined);
      if (sigma) {
        // Key order as in the captures' sigma_analysis_stats.
        const stats = { high: sigma.high ?? 0, medium: sigma.medium ?? 0, critical: sigma.critical ?? 0, low: sigma.low ?? 0 };
        let n = 0;
        extra.sigma_analysis_results = perLevel(stats, ['critical', 'high', 'medium', 'low'], (level) => {
          const rule = SIGMA_RULES[n++ % SIGMA_RULES.length]!;
          return { rule_level: level, rule_id: rng.hex(64), rule_source: SIGMA_SOURCE, rule_title: rule.rule_title, rule_description: `Detects ${rule.rule_title.toLowerCase()}`, rule_author: rule.rule_author, match_context: [] };
        });
        extra.sigma_analysis_stats = stats;
        extra.sigma_analysis_summary = { [SIGMA_SOURCE]: stats };
      }
      const sandboxes = control?.sandboxes ?? (rng.next() < 0.5 ? { [rng.pick(SANDBOXES)]: (bad ? 'malicious' : 'harmless') as SandboxCategory } : undefined);
      if (sandboxes && Object.keys(sandboxes).length > 0) {
        const verdicts: Record<string, unknown> = {};
        for (const [name, category] of Object.entries(sandboxes)) {
          verdicts[name] = {
            category,
            ...(category === 'harmless' || category === 'undetected' ? {} : { confidence: rng.int(40, 90) }),
            sandbox_name: name,
            malware_classification: category === 'malicious' ? ['MALWARE'] : category === 'suspicious' ? ['EVADER'] : category === 'harmless' ? ['CLEAN'] : ['UNKNOWN_VERDICT'],
            ...(category === 'malicious' ? { malware_names: [String(base.meaningful_name ?? 'Generic').split('_')[0]] } : {}),
          };
        }
        extra.sandbox_verdicts = verdicts;
      }
      break;
    }
    case 'domain':
    case 'ip_address': {
      const host = kind === 'domain' ? identity : `${identity}`;
      const issuer = rng.pick(ISSUERS);
      const notBefore = analysisDate - rng.int(10, 80) * DAY;
      extra.jarm = rng.hex(62);
      extra.last_https_certificate = {
        size: rng.int(1000, 1800),
        public_key: { algorithm: 'RSA', rsa: { modulus: rng.hex(512), exponent: '10001', key_size: 2048 } },
        thumbprint_sha256: rng.hex(64),
        tags: [],
        cert_signature: { signature_algorithm: 'sha256RSA', signature: rng.hex(512) },
        validity: { not_after: isoSeconds(notBefore + 90 * DAY), not_before: isoSeconds(notBefore) },
        version: 'V3',
        extensions: { subject_alternative_name: kind === 'domain' ? [host, `*.${host}`] : [host], extended_key_usage: ['serverAuth', 'clientAuth'], key_usage: ['digitalSignature', 'keyEncipherment'], CA: false },
        signature_algorithm: 'sha256RSA',
        serial_number: rng.hex(32),
        thumbprint: rng.hex(40),
        issuer,
        subject: { CN: kind === 'domain' ? host : `*.${host}` },
      };
      extra.last_https_certificate_date = analysisDate - rng.int(0, 5) * DAY;
      break;
    }
    case 'url': {
      const server = rng.pick(['nginx', 'Apache', 'cloudflare', 'envoy', 'Microsoft-IIS/10.0']);
      extra.last_http_response_headers = {
        'content-type': 'text/html; charset=utf-8',
        server,
        date: new Date(analysisDate * 1000).toUTCString(),
        'cache-control': 'no-cache, no-store',
        'content-length': String(base.last_http_response_content_length ?? rng.int(300, 90_000)),
        ...(bad ? {} : { 'strict-transport-security': 'max-age=31536000; includeSubDomains' }),
      };
      break;
    }
  }
  if (gtiEnabled && gti) extra.gti_assessment = gtiAssessment(gti);
  return extra;
}

/** `2025-03-16 23:59:59`, the format certificates' validity uses in the captures. */
function isoSeconds(unix: number): string {
  return new Date(unix * 1000).toISOString().slice(0, 19).replace('T', ' ');
}
