/**
 * Lints a Forge manifest offline with @forge/manifest's own validators: the manifest checks that
 * `forge lint` (and so `forge deploy`) runs before it talks to Atlassian.
 *
 * `forge lint` (@forge/lint 6.3.1, the version paired with @forge/manifest 13.7.0) builds five
 * @forge/manifest processors with `ProcessorBuilder`: FULL, PRODUCT_TRIGGER, AGENT_PRODUCT_CONTEXT,
 * DEPRECATED_CSP_METHOD and DEPRECATED_EGRESS_PERMISSIONS. Each one compiles the 2 MB JSON schema
 * afresh (about 3 s each here), and the extra validators of the last two (resources, permissions)
 * are already part of FULL. So this builds FULL once and runs the two scope validators that the
 * other processors add over the manifest FULL has parsed, with the same mapping files.
 *
 * What stays online, and so is not run: the deprecated-runtime list (`forge lint` asks Atlassian's
 * feature-flag service; here it is the one the Forge changelog announces, nodejs20.x) and the
 * server-side lint of `forge deploy` (major-version and approval rules, which compare with what is
 * deployed). @forge/lint's code linters are not run either: they read Forge function code, and
 * this app has none.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AgentProductContextScopesValidator,
  ProcessorBuilder,
  ProductTriggerScopesValidator,
  ValidationTypes,
  type AgentProductContextMappingConfig,
  type ManifestObject,
  type ManifestSchema,
  type MappingConfig,
  type ValidationError,
} from '@forge/manifest';
import { PROJECT_ROOT } from '../../src/app/paths';

export const FORGE_DIR = path.join(PROJECT_ROOT, 'forge');
export const MANIFEST_FILE = path.join(FORGE_DIR, 'manifest.yml');

/** Runtimes the Forge changelog has announced as past end of support. */
const DEPRECATED_RUNTIMES = ['nodejs20.x'];

export interface ManifestLint {
  errors: ValidationError[];
  warnings: ValidationError[];
  /** The manifest as the Forge CLI reads it (variables substituted), once it has passed the schema. */
  manifest: ManifestSchema | undefined;
}

// The package's "exports" hide out/mapping/; the processors load these two files from there.
function packagedMapping<T>(file: string): T {
  const out = path.dirname(require.resolve('@forge/manifest'));
  return JSON.parse(readFileSync(path.join(out, 'mapping', file), 'utf8')) as T;
}

let scopeValidators: Array<ProductTriggerScopesValidator<unknown> | AgentProductContextScopesValidator<unknown>> | null = null;

function scopeChecks(): Array<ProductTriggerScopesValidator<unknown> | AgentProductContextScopesValidator<unknown>> {
  scopeValidators ??= [
    new ProductTriggerScopesValidator(packagedMapping<MappingConfig>('product-event-to-scope-mapping.json')),
    new AgentProductContextScopesValidator(packagedMapping<AgentProductContextMappingConfig>('agent-product-context-to-scope-mapping.json')),
  ];
  return scopeValidators;
}

/** Lints the manifest at `file`; resources are looked up relative to its directory, as the CLI does. */
export async function lintManifest(file: string): Promise<ManifestLint> {
  // ProcessorBuilder keeps one processor per type and options, so the schema compiles once per process.
  const full = ProcessorBuilder.instance()
    .withValidation(ValidationTypes.FULL)
    .withOptions({ deprecatedRuntimes: DEPRECATED_RUNTIMES })
    .build();
  const result = await full.process(file);
  const findings = [...(result.errors ?? [])];
  const parsed = result.manifestObject as ManifestObject<ManifestSchema> | undefined;
  if (parsed?.typedContent) {
    for (const validator of scopeChecks()) findings.push(...((await validator.validate(parsed)).errors ?? []));
  }
  return {
    errors: findings.filter((finding) => finding.level === 'error'),
    warnings: findings.filter((finding) => finding.level === 'warning'),
    manifest: parsed?.typedContent,
  };
}

/**
 * A scratch copy of forge/ to lint variants of the manifest in. A resource directory that does not
 * exist yet (Custom UI not built) gets a stub index.html, so the manifest can be checked without the
 * UI build; once built, the real pages are copied and linted, their CSP meta tag included.
 */
export interface ForgeScratch {
  /** Writes `text` as a manifest beside the copied resources and returns its path. */
  manifest(name: string, text: string): string;
  remove(): void;
}

export function forgeScratch(resourcePaths: readonly string[]): ForgeScratch {
  const dir = mkdtempSync(path.join(tmpdir(), 'panelguard-forge-'));
  cpSync(FORGE_DIR, dir, { recursive: true, filter: (source) => path.basename(source) !== 'node_modules' });
  for (const resource of resourcePaths) {
    const copied = path.join(dir, resource);
    if (existsSync(copied)) continue;
    mkdirSync(copied, { recursive: true });
    writeFileSync(path.join(copied, 'index.html'), '<!doctype html><title>not built yet</title>\n');
  }
  return {
    manifest(name, text) {
      const file = path.join(dir, `${name}.yml`);
      writeFileSync(file, text);
      return file;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
