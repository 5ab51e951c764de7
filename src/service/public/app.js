// The zkai attestation explorer: talks to this service only (POST v1/verify, GET v1/circuits, GET v1/attestations,
// GET health). Everything the server or a proof file says is put on the page as text (textContent), never as HTML.

const $ = (id) => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
};

/** An element with attributes and children; strings and numbers become text nodes. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'className') node.className = value;
    else if (name === 'hidden') node.hidden = Boolean(value);
    else if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) {
  node.replaceChildren();
  return node;
}

/** A long value (a field element, a hash) shortened for a sentence; the table keeps the whole value. */
function short(value) {
  const text = String(value);
  return text.length > 22 ? `${text.slice(0, 10)}…${text.slice(-6)}` : text;
}

/** Friendly labels of the signal names zkai's circuits use. */
const LABELS = {
  root: 'Dataset root',
  count: 'Record count',
  policyHash: 'Policy hash',
  schemaHash: 'Schema hash',
  chunkDepth: 'Chunk depth',
  chunkSubtrees: 'Subtrees per chunk',
  subjectHash: 'Subject hash',
  inputHash: 'Input hash',
  class: 'Predicted class',
  modelHash: 'Model hash',
  modelCommitment: 'Model commitment',
  previous: "Previous chunk's commitment",
  taskHash: 'Accuracy task hash',
  context: 'Context (binding)',
  commitment: 'Commitment',
  low: 'Lowest value allowed',
  high: 'Highest value allowed',
};

function label(name) {
  if (LABELS[name]) return LABELS[name];
  let match = /^root(\d+)$/.exec(name);
  if (match) return `Subtree root ${match[1]}`;
  match = /^registry\.(.+)$/.exec(name);
  if (match) return `Registry root "${match[1]}"`;
  match = /^leaf(\d+)$/.exec(name);
  if (match) return `Test record leaf ${match[1]}`;
  match = /^input(\d+)$/.exec(name);
  if (match) return `Model input ${match[1]}`;
  match = /^aggregate(\d+)\.(.+)$/.exec(name);
  if (match) return `Aggregate ${match[1]} (${match[2]})`;
  return name;
}

const REASONS = {
  malformed: 'the proof is malformed (a point or a value is not what a Groth16 proof holds)',
  'wrong-signal-count': "the number of public signals is not the circuit's",
  'claim-mismatch': 'what the proof proves is not what is stated or expected',
  'invalid-proof': 'the pairing check failed: this proof does not prove these public signals with this key',
};

const KIND_NAMES = {
  'dataset-policy': 'dataset policy',
  'dataset-chunk': 'dataset chunk',
  'dataset-private-chunk': 'private dataset chunk',
  'dataset-aggregation': 'private chunks aggregation',
  inclusion: 'record inclusion',
  inference: 'model inference',
  accuracy: 'model accuracy',
  'demo-range': 'demo range check',
  generic: 'generic circuit',
  unknown: 'unknown',
};

const kindName = (kind) => KIND_NAMES[kind] ?? String(kind);

async function request(path, init) {
  let response;
  try {
    response = await fetch(path, { ...init, headers: { accept: 'application/json', ...(init?.headers ?? {}) } });
  } catch (error) {
    return {
      ok: false,
      status: 0,
      body: {
        code: 'NETWORK',
        message: `the service did not answer: ${error instanceof Error ? error.message : String(error)}`,
      },
    };
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = { code: 'NOT_JSON', message: `the service answered ${response.status} without JSON` };
  }
  return { ok: response.ok, status: response.status, body };
}

/** A message box for an error answer of the service: its message, hint and the fields at fault. */
function errorBox(answer, title) {
  const body = answer.body && typeof answer.body === 'object' ? answer.body : {};
  const fields = Array.isArray(body.fields) ? body.fields : [];
  return el(
    'div',
    { className: 'message error', role: 'alert' },
    el('p', { className: 'message-title' }, title),
    el('p', {}, String(body.message ?? 'no message')),
    body.hint ? el('p', { className: 'hint' }, `What to do: ${String(body.hint)}`) : null,
    fields.length
      ? el(
          'ul',
          { className: 'fields' },
          fields.map((f) => el('li', {}, el('code', {}, String(f.path || '(body)')), ' ', String(f.message ?? ''))),
        )
      : null,
    el('p', { className: 'code' }, `HTTP ${answer.status || 'no answer'}${body.code ? ` · ${String(body.code)}` : ''}`),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Service state and known circuits
// ---------------------------------------------------------------------------------------------------------------

let circuits = [];

async function loadHealth() {
  const status = $('service-status');
  const answer = await request('health');
  if (!answer.ok) {
    status.textContent = `The service's health check failed (HTTP ${answer.status}): ${String(answer.body?.message ?? '')}`;
    return;
  }
  const h = answer.body;
  const chain = h.chain?.configured
    ? `reads attestations from the registry ${String(h.chain.registry)}`
    : 'has no chain configured (attestations cannot be listed)';
  status.textContent = `Service ok: ${Number(h.circuits)} known circuit${Number(h.circuits) === 1 ? '' : 's'}; it ${chain}.`;
}

async function loadCircuits() {
  const target = clear($('circuits-result'));
  target.append(el('p', { className: 'muted' }, 'Loading…'));
  const answer = await request('v1/circuits');
  clear(target);
  if (!answer.ok) {
    target.append(errorBox(answer, 'The circuits could not be listed'));
    return;
  }
  circuits = Array.isArray(answer.body.circuits) ? answer.body.circuits : [];
  const select = $('circuit-select');
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '' }, 'From the proof file'));
  for (const c of circuits) {
    select.append(
      el(
        'option',
        { value: String(c.id) },
        `${String(c.name)} (${kindName(c.kind)}, ${Number(c.nPublic)} public signals) ${short(c.id)}`,
      ),
    );
  }
  if (circuits.some((c) => c.id === chosen)) select.value = chosen;
  if (circuits.length === 0) {
    target.append(
      el(
        'p',
        { className: 'message' },
        'This service knows no circuit: start it with --vkey KEY.json or a cache folder holding keys.',
      ),
    );
    return;
  }
  const table = el(
    'table',
    { id: 'circuits-table' },
    el('caption', {}, `${circuits.length} known circuit${circuits.length === 1 ? '' : 's'}`),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ['Name', 'Kind', 'Public signals', 'Circuit id', ''].map((h) => el('th', { scope: 'col' }, h)),
      ),
    ),
  );
  const tbody = el('tbody');
  for (const c of circuits) {
    const signals = Array.isArray(c.signals) ? c.signals : [];
    tbody.append(
      el(
        'tr',
        {},
        el(
          'td',
          {},
          String(c.name),
          c.namesKnown ? null : el('span', { className: 'muted' }, ' (signal names unknown)'),
        ),
        el('td', {}, kindName(c.kind)),
        el(
          'td',
          {},
          el(
            'details',
            {},
            el('summary', {}, `${Number(c.nPublic)} signal${Number(c.nPublic) === 1 ? '' : 's'}`),
            el(
              'ol',
              { start: '0', className: 'signal-list' },
              signals.map((s) => el('li', {}, el('code', {}, String(s.name)), ': ', String(s.meaning))),
            ),
          ),
        ),
        el('td', {}, el('code', { className: 'id' }, String(c.id))),
        el(
          'td',
          {},
          el(
            'button',
            {
              type: 'button',
              className: 'secondary small',
              'aria-label': `Use circuit ${String(c.name)} for a bare proof`,
              onclick: () => useCircuit(String(c.id)),
            },
            'Use',
          ),
        ),
      ),
    );
  }
  table.append(tbody);
  target.append(el('div', { className: 'table-wrap' }, table));
}

function useCircuit(id) {
  $('circuit-select').value = id;
  $('signals-input').focus();
  $('circuit-select').scrollIntoView({ block: 'center' });
}

// ---------------------------------------------------------------------------------------------------------------
// Checking a proof
// ---------------------------------------------------------------------------------------------------------------

function parseJson(text, what) {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `${what} is not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The body of POST v1/verify from the form, or a sentence saying what is wrong with the input. */
function buildBody() {
  const proofText = $('proof-input').value.trim();
  const signalsText = $('signals-input').value.trim();
  const vkeyText = $('vkey-input').value.trim();
  const circuit = $('circuit-select').value;
  if (!proofText) return { error: 'Paste, drop or choose a proof first.' };
  const parsed = parseJson(proofText, 'The proof');
  if (parsed.error) return parsed;
  const value = parsed.value;
  if (Array.isArray(value))
    return {
      error:
        'This looks like public signals (an array), not a proof: put it in the public signals box, and the proof (proof.json) in the proof box.',
    };
  if (!isObject(value)) return { error: 'The proof must be a JSON object: a proof file or a snarkjs proof.json.' };
  if ('vk_alpha_1' in value)
    return {
      error: 'This is a verification key, not a proof: put it under "Use a verification key", or pick its circuit.',
    };
  let body;
  if ('format' in value || 'chunks' in value || 'proof' in value) {
    body = { ...value };
  } else if ('pi_a' in value) {
    body = { proof: value };
  } else {
    return { error: 'This JSON is neither a zkai proof file (it has no "format") nor a snarkjs proof (no "pi_a").' };
  }
  if (body.publicSignals === undefined && body.chunks === undefined) {
    if (!signalsText)
      return {
        error: 'A bare snarkjs proof needs its public signals (public.json): paste them in the public signals box.',
      };
    const signals = parseJson(signalsText, 'The public signals');
    if (signals.error) return signals;
    if (!Array.isArray(signals.value))
      return { error: 'The public signals must be a JSON array of decimal strings (public.json).' };
    body.publicSignals = signals.value;
  }
  if (circuit) body.circuit = circuit;
  if (vkeyText && !circuit) {
    const vkey = parseJson(vkeyText, 'The verification key');
    if (vkey.error) return vkey;
    body.verificationKey = vkey.value;
  }
  return { body };
}

/** The table of a proof's claims: every public signal by name, its value and its meaning. */
function claimsTable(claims, caption) {
  const signals = Array.isArray(claims?.signals) ? claims.signals : [];
  return el(
    'div',
    { className: 'table-wrap' },
    el(
      'table',
      { className: 'claims' },
      el('caption', {}, caption),
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ['#', 'Claim', 'Value', 'Meaning'].map((h) => el('th', { scope: 'col' }, h)),
        ),
      ),
      el(
        'tbody',
        {},
        signals.map((s) =>
          el(
            'tr',
            { 'data-signal': String(s.name) },
            el('td', {}, String(s.index)),
            el(
              'th',
              { scope: 'row' },
              label(String(s.name)),
              el('br'),
              el('code', { className: 'muted' }, String(s.name)),
            ),
            el('td', {}, el('code', { className: 'value' }, String(s.value))),
            el('td', {}, String(s.meaning)),
          ),
        ),
      ),
    ),
  );
}

/** One sentence saying what a proof of this kind claims, from its decoded signals. */
function headline(kind, v) {
  if (!v) return null;
  switch (kind) {
    case 'dataset-policy':
      return `A dataset of ${v.count} records with root ${short(v.root)} satisfies the policy with hash ${short(v.policyHash)} (schema ${short(v.schemaHash)}).`;
    case 'inclusion':
      return `The record of subject ${short(v.subjectHash)} is in the dataset with root ${short(v.root)}.`;
    case 'inference':
      return `The model ${short(v.modelHash ?? v.modelCommitment)} predicts class ${v.class}${v.inputHash ? ` for the input committed as ${short(v.inputHash)}` : ''}.`;
    case 'demo-range':
      return `Every value of the private list committed as ${short(v.commitment)} lies in [${v.low}, ${v.high}].`;
    case 'accuracy':
      return `The model ${short(v.modelHash ?? v.modelCommitment)} ran on this chunk's test records; the chunk opens the previous chunk's commitment ${short(v.previous)} and commits to the running total of correct predictions as ${short(v.commitment)} (salted: no chunk's count is public).`;
    default:
      return null;
  }
}

/** For a chunked accuracy or dataset file: what the chunks add up to. */
function chunkSummary(result, file) {
  const chunks = Array.isArray(result.chunks) ? result.chunks : [];
  const values = chunks.map((c) => c.claims?.values).filter(Boolean);
  if (result.circuit?.kind === 'accuracy' && values.length && typeof file?.correct === 'number') {
    // The total the file states: the service checked that the last chunk's commitment opens to it.
    const correct = file.correct;
    const first = values[0];
    const total = typeof file?.count === 'number' ? file.count : null;
    const accuracy = total
      ? ` Accuracy: ${((100 * correct) / total).toFixed(1)}% (${correct} of the ${total} records of the test set the file states, whose root the chunks' leaves rebuild; whether that test set is one you trust, and a threshold, are checked by zkai model verify).`
      : '';
    return el(
      'div',
      { className: 'summary', id: 'accuracy-summary' },
      el(
        'p',
        {},
        `The chunks prove ${correct} correct prediction${correct === 1 ? '' : 's'} in all (the last chunk's commitment opens to it) of the model ${short(first.modelHash ?? first.modelCommitment)} on the task ${short(first.taskHash)}.${accuracy}`,
      ),
      el(
        'dl',
        {},
        el('dt', {}, 'Correct predictions (all chunks)'),
        el('dd', { 'data-claim': 'correct' }, String(correct)),
        total
          ? [
              el('dt', {}, 'Accuracy'),
              el('dd', { 'data-claim': 'accuracy' }, `${((100 * correct) / total).toFixed(1)}%`),
            ]
          : null,
      ),
    );
  }
  // A private chunked proof: no chunk claims (they are salted commitments); the service says what it checked with.
  if (isObject(result.privateChunks)) {
    const p = result.privateChunks;
    const count = typeof file?.commitment?.count === 'number' ? file.commitment.count : null;
    return el(
      'div',
      { className: 'summary', id: 'private-chunks-summary' },
      el(
        'p',
        {},
        `The ${chunks.length} chunk proofs and ${Number(p.aggregationChecked)} aggregation proofs prove that the ${count === null ? '' : `${count} `}records the file commits to (root ${short(String(file?.commitment?.root ?? ''))}) satisfy the policy "${String(p.policy?.name ?? '')}" ${short(String(p.policy?.hash ?? ''))}; compare that root and count with the commitment you trust. No chunk's partials are published.`,
      ),
      el(
        'dl',
        {},
        el('dt', {}, 'Statement of this service'),
        el('dd', {}, String(p.statement)),
        el('dt', {}, 'Fan-in (the service’s own)'),
        el('dd', {}, String(p.fanIn)),
        el('dt', {}, 'Aggregation proofs per level'),
        el('dd', {}, Array.isArray(p.aggregationLevels) ? p.aggregationLevels.join(', ') : ''),
      ),
    );
  }
  if (result.circuit?.kind === 'dataset-chunk' && values.length) {
    const count = values.reduce((sum, v) => sum + Number(v.count ?? 0), 0);
    return el(
      'div',
      { className: 'summary' },
      el(
        'p',
        {},
        `The ${chunks.length} chunks prove ${count} records satisfying the policy ${short(values[0].policyHash)}.`,
      ),
    );
  }
  return null;
}

function renderVerdict(result, file) {
  const box = $('verdict');
  const title = $('verdict-title');
  const detail = $('verdict-detail');
  const body = clear($('verdict-body'));
  box.hidden = false;
  box.className = `verdict ${result.valid ? (result.claimsChecked === false ? 'unchecked' : 'valid') : 'invalid'}`;
  // A circuit the service knows only by its key: the pairing check passed, but nothing says what the signals mean.
  const pairingOnly = result.claimsChecked === false;
  title.textContent = result.valid
    ? pairingOnly
      ? 'Valid pairing, claims not checked'
      : 'Valid'
    : `Invalid: ${String(result.reason ?? 'rejected')}`;
  detail.textContent = result.valid
    ? pairingOnly
      ? 'The pairing check passed, but this service knows the circuit only by its verification key: it does not know what the public signals mean, so no claim of this proof (or of its file) was decoded or checked.'
      : isObject(result.privateChunks)
        ? "Every chunk and aggregation proof verifies with this service's own keys of the policy's circuits: what the file proves is below."
        : 'The proof verifies: its public signals below are proven.'
    : String(result.detail ?? REASONS[result.reason] ?? 'the service gave no detail');

  const circuit = result.circuit ?? {};
  body.append(
    el(
      'dl',
      { className: 'circuit-info' },
      el('dt', {}, 'Circuit'),
      el(
        'dd',
        {},
        `${circuit.name ? String(circuit.name) : 'unnamed'} · ${kindName(circuit.kind)}${circuit.known ? '' : ' · key given in the request'}`,
      ),
      el('dt', {}, 'Circuit id'),
      el('dd', {}, el('code', { className: 'id' }, String(circuit.id ?? ''))),
    ),
  );
  if (Array.isArray(result.mismatches) && result.mismatches.length) {
    body.append(
      el('h3', {}, 'Mismatched claims'),
      el(
        'div',
        { className: 'table-wrap' },
        el(
          'table',
          { className: 'mismatches' },
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ['Claim', 'Stated or expected', 'Proven by the signals'].map((h) => el('th', { scope: 'col' }, h)),
            ),
          ),
          el(
            'tbody',
            {},
            result.mismatches.map((m) =>
              el(
                'tr',
                {},
                el('th', { scope: 'row' }, label(String(m.name ?? `signal ${m.index}`))),
                el('td', {}, el('code', { className: 'value' }, String(m.expected))),
                el('td', {}, el('code', { className: 'value' }, String(m.actual))),
              ),
            ),
          ),
        ),
      ),
    );
  }
  if (result.claims) {
    const sentence = headline(result.claims.kind, result.claims.values);
    body.append(el('h3', {}, result.valid ? 'What it proves' : 'What it claims (not proven)'));
    if (sentence) body.append(el('p', { className: 'headline', id: 'claims-headline' }, sentence));
    body.append(claimsTable(result.claims, 'Public signals, in circuit order'));
  } else if (!Array.isArray(result.chunks)) {
    body.append(
      el(
        'p',
        { className: 'muted', id: 'claims-not-decoded' },
        pairingOnly
          ? "No claim decoded: the service does not know what this circuit's signals mean."
          : 'The claims could not be decoded (see the reason above).',
      ),
    );
  }
  if (Array.isArray(result.chunks)) {
    // Totals only for a valid file: the service then checked the chunks as a whole (order, roots or leaves, the stated total).
    const summary = result.valid && result.claimsChecked !== false ? chunkSummary(result, file) : null;
    if (summary) body.append(el('h3', {}, 'What it proves'), summary);
    body.append(el('h3', {}, `Chunks (${result.chunks.length})`));
    for (const chunk of result.chunks) {
      const state = chunk.valid ? 'valid' : `invalid: ${String(chunk.reason)}`;
      body.append(
        el(
          'details',
          { className: `chunk ${chunk.valid ? 'valid' : 'invalid'}` },
          el('summary', {}, `Chunk ${Number(chunk.index)}: ${state}`),
          chunk.detail ? el('p', {}, String(chunk.detail)) : null,
          chunk.claims ? claimsTable(chunk.claims, `Public signals of chunk ${Number(chunk.index)}`) : null,
        ),
      );
    }
  }
  if (result.note)
    body.append(el('p', { className: 'note' }, el('strong', {}, 'Not covered here: '), String(result.note)));
  $('verify-live').textContent = title.textContent;
  box.focus({ preventScroll: true });
  box.scrollIntoView({ block: 'nearest' });
}

function renderNotChecked(message, answer) {
  const box = $('verdict');
  box.hidden = false;
  box.className = 'verdict unchecked';
  $('verdict-title').textContent = 'Not checked';
  $('verdict-detail').textContent = answer
    ? `The service refused the request (HTTP ${answer.status || 'no answer'}${answer.body?.code ? `, ${String(answer.body.code)}` : ''}):`
    : message;
  const body = clear($('verdict-body'));
  if (answer) body.append(errorBox(answer, 'The service refused the request'));
  $('verify-live').textContent = `Not checked: ${message}`;
}

async function onVerify(event) {
  event.preventDefault();
  const built = buildBody();
  if (built.error) {
    renderNotChecked(built.error);
    return;
  }
  const button = $('verify-button');
  button.disabled = true;
  button.textContent = 'Verifying…';
  $('verdict').setAttribute('aria-busy', 'true');
  try {
    const answer = await request('v1/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(built.body),
    });
    if (answer.ok && answer.body && typeof answer.body.valid === 'boolean') renderVerdict(answer.body, built.body);
    else renderNotChecked(String(answer.body?.message ?? `the service answered HTTP ${answer.status}`), answer);
  } finally {
    button.disabled = false;
    button.textContent = 'Verify';
    $('verdict').removeAttribute('aria-busy');
  }
}

/** Files chosen or dropped: a proof (file) goes to the proof box, public signals to theirs, a key to the key box. */
async function takeFiles(fileList) {
  const files = Array.from(fileList ?? []);
  if (!files.length) return;
  const notes = [];
  for (const file of files) {
    if (file.size > 16 * 1024 * 1024) {
      notes.push(`${file.name}: too large (${file.size} bytes)`);
      continue;
    }
    const text = await file.text();
    const parsed = parseJson(text, file.name);
    if (parsed.error) {
      notes.push(parsed.error);
      continue;
    }
    const value = parsed.value;
    if (Array.isArray(value)) {
      $('signals-input').value = JSON.stringify(value);
      notes.push(`${file.name}: public signals`);
    } else if (isObject(value) && 'vk_alpha_1' in value) {
      $('vkey-input').value = JSON.stringify(value, null, 2);
      $('vkey-details').open = true;
      notes.push(`${file.name}: verification key`);
    } else {
      $('proof-input').value = JSON.stringify(value, null, 2);
      notes.push(`${file.name}: ${isObject(value) && typeof value.format === 'string' ? value.format : 'proof'}`);
    }
  }
  $('file-status').textContent = `Read ${notes.join('; ')}.`;
}

function setUpDropZone() {
  const zone = $('drop-zone');
  const stop = (event) => {
    event.preventDefault();
    event.stopPropagation();
  };
  for (const type of ['dragenter', 'dragover']) {
    zone.addEventListener(type, (event) => {
      stop(event);
      zone.classList.add('dragging');
    });
  }
  zone.addEventListener('dragleave', (event) => {
    stop(event);
    if (!zone.contains(event.relatedTarget)) zone.classList.remove('dragging');
  });
  zone.addEventListener('drop', (event) => {
    stop(event);
    zone.classList.remove('dragging');
    const files = event.dataTransfer?.files;
    if (files && files.length) {
      void takeFiles(files);
      return;
    }
    const text = event.dataTransfer?.getData('text/plain');
    if (text) $('proof-input').value = text;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Attestations
// ---------------------------------------------------------------------------------------------------------------

function attestationResult(a) {
  if (a.accuracy && typeof a.accuracy === 'object') {
    const { correct, total } = a.accuracy;
    return `accuracy ${Number(correct)} of ${Number(total)}${Number(total) ? ` (${((100 * Number(correct)) / Number(total)).toFixed(1)}%)` : ''}`;
  }
  const v = a.claims?.values;
  if (!v) return '';
  if (a.kind === 'inference' && v.class !== undefined) return `class ${v.class}`;
  if (a.kind === 'dataset-policy' && v.count !== undefined) return `${v.count} records`;
  if (a.kind === 'inclusion') return 'record included';
  return '';
}

const STATUS_TEXT = { valid: 'valid', revoked: 'revoked', expired: 'expired' };

async function onAttestations(event) {
  event.preventDefault();
  const target = clear($('attestations-result'));
  const subject = $('subject-input').value.trim();
  const attester = $('attester-input').value.trim();
  const query = new URLSearchParams();
  if (subject) query.set('subject', subject);
  if (attester) query.set('attester', attester);
  const button = $('attestations-button');
  button.disabled = true;
  target.append(el('p', { className: 'muted' }, 'Reading the registry…'));
  try {
    const search = query.toString();
    const answer = await request(`v1/attestations${search ? `?${search}` : ''}`);
    clear(target);
    if (answer.status === 503 && answer.body?.code === 'CHAIN_NOT_CONFIGURED') {
      target.append(
        el(
          'div',
          { className: 'message warning', role: 'alert', id: 'no-chain' },
          el('p', { className: 'message-title' }, 'No chain is configured'),
          el(
            'p',
            {},
            'This service was started without a chain node and registry, so it cannot list attestations. Proofs can still be checked above.',
          ),
          answer.body.hint ? el('p', { className: 'hint' }, `What to do: ${String(answer.body.hint)}`) : null,
          el(
            'p',
            { className: 'code' },
            `HTTP 503 · ${String(answer.body.code)}: ${String(answer.body.message ?? '')}`,
          ),
        ),
      );
      return;
    }
    if (!answer.ok) {
      target.append(
        errorBox(
          answer,
          answer.status === 503 ? 'The chain cannot be read right now' : 'The attestations could not be listed',
        ),
      );
      return;
    }
    const list = Array.isArray(answer.body.attestations) ? answer.body.attestations : [];
    target.append(
      el(
        'p',
        { className: 'summary-line' },
        `${list.length} attestation${list.length === 1 ? '' : 's'} on chain ${Number(answer.body.chainId)}, registry `,
        el('code', {}, String(answer.body.registry)),
        '.',
      ),
    );
    if (!list.length) return;
    const tbody = el('tbody');
    for (const a of list) {
      const status = String(a.status);
      tbody.append(
        el(
          'tr',
          { 'data-uid': String(a.uid) },
          el('td', {}, el('time', { datetime: String(a.time) }, new Date(String(a.time)).toLocaleString())),
          el('td', {}, el('code', { className: 'id' }, String(a.attester))),
          el('td', {}, kindName(a.kind)),
          el(
            'td',
            {},
            el('span', { className: `badge ${STATUS_TEXT[status] ? status : 'other'}` }, STATUS_TEXT[status] ?? status),
          ),
          el('td', {}, attestationResult(a)),
        ),
        // The details span the whole table, below their attestation.
        el(
          'tr',
          { className: 'detail-row', 'data-details-of': String(a.uid) },
          el(
            'td',
            { colspan: '5' },
            el(
              'details',
              {},
              el('summary', {}, `Details of attestation ${short(a.uid)}`),
              el(
                'dl',
                { className: 'attestation-details' },
                el('dt', {}, 'Attestation uid'),
                el('dd', {}, el('code', { className: 'id' }, String(a.uid))),
                el('dt', {}, 'Subject'),
                el('dd', {}, el('code', { className: 'id' }, String(a.subject))),
                el('dt', {}, 'Circuit'),
                el('dd', {}, el('code', { className: 'id' }, String(a.circuit))),
                el('dt', {}, 'Transaction'),
                el('dd', {}, el('code', { className: 'id' }, String(a.txHash)), ` (block ${Number(a.blockNumber)})`),
                a.revocationTxHash
                  ? [
                      el('dt', {}, 'Revoked by'),
                      el('dd', {}, el('code', { className: 'id' }, String(a.revocationTxHash))),
                    ]
                  : null,
                Number(a.expirationTime)
                  ? [el('dt', {}, 'Expires'), el('dd', {}, new Date(Number(a.expirationTime) * 1000).toLocaleString())]
                  : null,
                a.accuracy
                  ? [
                      el('dt', {}, 'Test set version'),
                      el('dd', {}, el('code', { className: 'id' }, String(a.accuracy.testSet))),
                    ]
                  : null,
              ),
              a.claims
                ? claimsTable(a.claims, 'What it claims (public signals)')
                : el(
                    'p',
                    { className: 'muted' },
                    'The circuit is not one this service knows, so the public signals are not decoded.',
                  ),
            ),
          ),
        ),
      );
    }
    target.append(
      el(
        'div',
        { className: 'table-wrap' },
        el(
          'table',
          { id: 'attestations-table' },
          el('caption', {}, 'Attestations, oldest first'),
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ['Time', 'Attester', 'Kind', 'Status', 'Result'].map((h) => el('th', { scope: 'col' }, h)),
            ),
          ),
          tbody,
        ),
      ),
    );
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------------------------

function start() {
  $('verify-form').addEventListener('submit', (event) => void onVerify(event));
  $('clear-button').addEventListener('click', () => {
    for (const id of ['proof-input', 'signals-input', 'vkey-input']) $(id).value = '';
    $('circuit-select').value = '';
    $('file-status').textContent = '';
    $('proof-file').value = '';
    $('verdict').hidden = true;
    $('proof-input').focus();
  });
  $('proof-file').addEventListener('change', (event) => void takeFiles(event.target.files));
  $('attestations-form').addEventListener('submit', (event) => void onAttestations(event));
  $('circuits-refresh').addEventListener('click', () => void loadCircuits());
  setUpDropZone();
  document.body.dataset.ready = 'true';
  void loadHealth();
  void loadCircuits();
}

start();
