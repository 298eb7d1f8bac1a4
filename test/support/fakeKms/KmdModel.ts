/**
 * The Kurento interface definitions (kmd) as a queryable model, used by the fake KMS to validate
 * `create` / `invoke` / `subscribe` generically instead of hand-listing classes and operations.
 *
 * Source of truth: the kmd files shipped by the npm packages `kurento-client-core`,
 * `kurento-client-elements` and `kurento-client-filters` 7.3.0 (`src/*.kmd.json`, always present
 * with `kurento-client`). They describe exactly the same classes, constructor parameters,
 * methods, properties, events and complex types (names, types, optionality) as the files of the
 * real KMS 7.3.1 in `/work/shared/kms-protocol/kmd/` (only docs, `final` flags and version
 * strings differ; `test/unit/FakeKms.test.ts` checks this whenever the shared copy exists).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { KmsError } from './KmsError.js';

/** A constructor or method parameter, or a complex-type property. */
export interface KmdParamDef {
  name: string;
  type: string;
  optional: boolean;
  defaultValue?: unknown;
}

/** A method of a remote class. */
export interface KmdMethodDef {
  name: string;
  params: KmdParamDef[];
  returnType?: string;
}

/** A property of a remote class (accessed with `get<Name>` / `set<Name>` operations). */
export interface KmdPropertyDef {
  name: string;
  type: string;
  readOnly: boolean;
  final: boolean;
  defaultValue?: unknown;
}

/** A remote class (MediaPipeline, WebRtcEndpoint, ...). */
export interface KmdClassDef {
  name: string;
  module: string;
  parent?: string;
  abstract: boolean;
  ctorParams?: KmdParamDef[];
  methods: Map<string, KmdMethodDef>;
  properties: Map<string, KmdPropertyDef>;
  events: string[];
}

/** A complex type: an ENUM (list of values) or a REGISTER (a struct). */
export interface KmdComplexTypeDef {
  name: string;
  format: 'ENUM' | 'REGISTER';
  parent?: string;
  values: string[];
  properties: KmdParamDef[];
}

/** What `invoke` resolves an operation name to. */
export type ResolvedOperation =
  | { kind: 'method'; owner: string; method: KmdMethodDef }
  | { kind: 'get'; owner: string; property: KmdPropertyDef }
  | { kind: 'set'; owner: string; property: KmdPropertyDef };

/** One kmd module (core, elements, filters) with the raw text that `getKmd` returns. */
export interface KmdModuleInfo {
  name: string;
  version: string;
  factories: string[];
  text: string;
}

/** Looks up a live object's type by id; `undefined` when no such object exists. */
export type ObjectTypeLookup = (id: string) => string | undefined;

const PRIMITIVES = new Set(['String', 'int', 'int64', 'float', 'double', 'boolean']);

interface RawParam {
  name: string;
  type: string;
  optional?: boolean;
  defaultValue?: unknown;
}
interface RawClass {
  name: string;
  extends?: string;
  abstract?: boolean;
  methods?: Array<{ name: string; params?: RawParam[]; return?: { type: string } }>;
  properties?: Array<RawParam & { readOnly?: boolean; final?: boolean }>;
  events?: string[];
}
interface RawComplexType {
  name: string;
  typeFormat: 'ENUM' | 'REGISTER';
  extends?: string;
  values?: string[];
  properties?: RawParam[];
}
interface RawModule {
  name: string;
  version: string;
  remoteClasses?: RawClass[];
  complexTypes?: RawComplexType[];
  events?: Array<{ name: string; extends?: string; properties?: RawParam[] }>;
}

const toParam = (p: RawParam): KmdParamDef => ({
  name: p.name,
  type: p.type,
  optional: p.optional === true,
  ...(p.defaultValue !== undefined ? { defaultValue: p.defaultValue } : {}),
});

/** The loaded kmd model. Build it once with {@link KmdModel.load}. */
export class KmdModel {
  readonly classes = new Map<string, KmdClassDef>();
  readonly complexTypes = new Map<string, KmdComplexTypeDef>();
  readonly modules: KmdModuleInfo[] = [];

  private static cached: KmdModel | undefined;

  /** Loads (once per process) the kmd files of the installed `kurento-client-*` 7.3.0 packages. */
  static load(): KmdModel {
    if (!KmdModel.cached) {
      const require = createRequire(import.meta.url);
      const texts = ['core', 'elements', 'filters'].map((name) => {
        const main = require.resolve(`kurento-client-${name}`);
        return readFileSync(path.join(path.dirname(main), '..', 'src', `${name}.kmd.json`), 'utf8');
      });
      KmdModel.cached = new KmdModel(texts);
    }
    return KmdModel.cached;
  }

  /** Builds a model from kmd JSON texts (strict JSON, as shipped in the npm packages). */
  constructor(kmdTexts: string[]) {
    for (const text of kmdTexts) {
      const raw = JSON.parse(text) as RawModule;
      const factories: string[] = [];
      for (const c of raw.remoteClasses ?? []) {
        // `constructor` is read as an own property: every object inherits one from Object.prototype.
        const ctor = Object.hasOwn(c, 'constructor')
          ? (c as unknown as { constructor: { params?: RawParam[] } }).constructor
          : undefined;
        const def: KmdClassDef = {
          name: c.name,
          module: 'kurento',
          abstract: c.abstract === true,
          methods: new Map(
            (c.methods ?? []).map((m) => [
              m.name,
              {
                name: m.name,
                params: (m.params ?? []).map(toParam),
                ...(m.return ? { returnType: m.return.type } : {}),
              },
            ]),
          ),
          properties: new Map(
            (c.properties ?? []).map((p) => [
              p.name,
              { ...toParam(p), readOnly: p.readOnly === true, final: p.final === true },
            ]),
          ),
          events: c.events ?? [],
          ...(c.extends ? { parent: c.extends } : {}),
          ...(ctor ? { ctorParams: (ctor.params ?? []).map(toParam) } : {}),
        };
        this.classes.set(c.name, def);
        if (!def.abstract && def.ctorParams) factories.push(c.name);
      }
      for (const t of raw.complexTypes ?? []) {
        this.complexTypes.set(t.name, {
          name: t.name,
          format: t.typeFormat,
          values: t.values ?? [],
          properties: (t.properties ?? []).map(toParam),
          ...(t.extends ? { parent: t.extends } : {}),
        });
      }
      this.modules.push({ name: raw.name, version: raw.version, factories: factories.sort(), text });
    }
  }

  /** The class, or undefined. */
  classDef(type: string): KmdClassDef | undefined {
    return this.classes.get(type);
  }

  /** Whether `create` can build this type (a non-abstract class with a constructor). */
  isFactory(type: string): boolean {
    const c = this.classes.get(type);
    return !!c && !c.abstract && !!c.ctorParams;
  }

  /** Ancestors of a class, nearest first, e.g. WebRtcEndpoint → [BaseRtpEndpoint, …, MediaObject]. */
  ancestors(type: string): string[] {
    const out: string[] = [];
    let c = this.classes.get(type)?.parent;
    while (c) {
      out.push(c);
      c = this.classes.get(c)?.parent;
    }
    return out;
  }

  /** The class and its ancestors, the class first. */
  lineage(type: string): string[] {
    return [type, ...this.ancestors(type)];
  }

  /** Whether `type` is `base` or inherits from it. */
  isA(type: string, base: string): boolean {
    return this.lineage(type).includes(base);
  }

  /** `describe`'s `hierarchy`: qualified ancestors, e.g. `["kurento.MediaObject"]` for ServerManager (recorded). */
  hierarchy(type: string): string[] {
    return this.ancestors(type).map((t) => `${this.classes.get(t)?.module ?? 'kurento'}.${t}`);
  }

  /** Whether an object of `type` emits events of `eventType` (the kmd `events` lists along the lineage). */
  supportsEvent(type: string, eventType: string): boolean {
    return this.lineage(type).some((t) => this.classes.get(t)?.events.includes(eventType));
  }

  /** Resolves an `invoke` operation: a kmd method, or a property getter/setter, along the lineage. */
  resolveOperation(type: string, operation: string): ResolvedOperation | undefined {
    for (const owner of this.lineage(type)) {
      const c = this.classes.get(owner);
      if (!c) continue;
      const method = c.methods.get(operation);
      if (method) return { kind: 'method', owner, method };
      for (const property of c.properties.values()) {
        const cap = property.name.charAt(0).toUpperCase() + property.name.slice(1);
        if (operation === `get${cap}`) return { kind: 'get', owner, property };
        if (operation === `set${cap}` && !property.readOnly && !property.final)
          return { kind: 'set', owner, property };
      }
    }
    return undefined;
  }

  /** All properties of a complex type, inherited ones first. */
  complexProperties(type: string): KmdParamDef[] {
    const t = this.complexTypes.get(type);
    if (!t) return [];
    return [...(t.parent ? this.complexProperties(t.parent) : []), ...t.properties];
  }

  /**
   * Validates `values` against parameter definitions the way KMS's generated marshalling does and
   * returns the values (with kmd defaults for absent optional params). Errors:
   * - a missing required constructor param (`opts.missing: 'constructor'`, the default): 40107
   *   MEDIA_OBJECT_ILLEGAL_PARAM_ERROR "'<name>' parameter is required" (the factory's check);
   * - a missing required method param (`opts.missing: 'method'`): 40001 MARSHALL_ERROR
   *   "'<name>' parameter should be a <type>" — recorded in `real-kms-mixers.jsonl` (request 161:
   *   `setMaster` without zOrder → "'zOrder' parameter should be a integer");
   * - a value jsoncpp cannot convert (`Json::Value::isConvertibleTo`, see {@link convertible}):
   *   40001, e.g. "'source' parameter should be a string" for a RemoteClass param sent as an object
   *   (`real-kms-scenario.jsonl` 87, 88), "'zOrder' parameter should be a integer" (mixers 159),
   *   "'relativeX' parameter should be a double" (mixers 163; relativeX is a kmd `float`),
   *   "'offsetXPercent' parameter should be a double" (mixers 253);
   * - an ENUM value it does not know: 40001 "Invalid value for '<Type>'" (mixers 196: getStats BOGUS);
   * - a RemoteClass id that names no live object: 40101 "Object '<id>' not found" (mixers 156, 164);
   * - a RemoteClass id of an object of another class: 40001 "'<name>' parameter should be a <Type>"
   *   (not observed; a real KMS hands the method a null pointer instead). `opts.anyObject` accepts
   *   such an id, so that the caller can model what a real KMS does with it (AlphaBlending crashes).
   */
  validateParams(
    defs: KmdParamDef[],
    values: unknown,
    lookup: ObjectTypeLookup,
    opts: { missing?: 'constructor' | 'method'; anyObject?: boolean } = {},
  ): Record<string, unknown> {
    const given = values && typeof values === 'object' ? (values as Record<string, unknown>) : {};
    const out: Record<string, unknown> = {};
    for (const def of defs) {
      const v = given[def.name];
      if (v === undefined || v === null) {
        if (!def.optional) {
          if (opts.missing === 'method')
            throw KmsError.marshall(`'${def.name}' parameter ${this.shouldBe(def.type)}`);
          throw KmsError.kurento('MEDIA_OBJECT_ILLEGAL_PARAM_ERROR', `'${def.name}' parameter is required`);
        }
        if (def.defaultValue !== undefined) out[def.name] = def.defaultValue;
        continue;
      }
      out[def.name] = this.validateValue(def.type, v, def.name, lookup, opts.anyObject === true);
    }
    return out;
  }

  /** "should be a <json type>" as KMS's marshalling words it for a kmd type (int → "a integer", float → "a double"). */
  private shouldBe(type: string): string {
    if (type.endsWith('[]')) return 'should be an array';
    if (type.endsWith('<>')) return 'should be an object';
    switch (type) {
      case 'String':
        return 'should be a string';
      case 'boolean':
        return 'should be a boolean';
      case 'int':
      case 'int64':
        return 'should be a integer'; // recorded for int (mixers 159, 161); int64 assumed alike
      case 'float':
      case 'double':
        return 'should be a double'; // recorded for float params (mixers 163, 253)
    }
    if (this.classes.has(type)) return 'should be a string';
    return `should be a ${type}`;
  }

  /**
   * jsoncpp's `isConvertibleTo` for a JSON value and a kmd primitive type (KMS reads every
   * primitive param through it): numbers convert to int when in range (1.5 too: mixers 158 accepted
   * zOrder 1.5, -1 at 160), numbers and booleans convert to double/boolean, numbers, booleans and
   * strings convert to string; a string never converts to a number, an object or array to nothing.
   */
  private static convertible(type: string, value: unknown): boolean {
    switch (type) {
      case 'String':
        return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
      case 'int':
        return (
          typeof value === 'boolean' || (typeof value === 'number' && value >= -(2 ** 31) && value < 2 ** 31)
        );
      case 'int64':
        return typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
      default: // float, double, boolean
        return typeof value === 'number' || typeof value === 'boolean';
    }
  }

  /** Validates one value of a kmd type (see {@link validateParams}). */
  validateValue(
    type: string,
    value: unknown,
    name: string,
    lookup: ObjectTypeLookup,
    anyObject = false,
  ): unknown {
    if (type.endsWith('[]')) {
      if (!Array.isArray(value)) throw KmsError.marshall(`'${name}' parameter should be an array`);
      return value.map((v) => this.validateValue(type.slice(0, -2), v, name, lookup, anyObject));
    }
    if (type.endsWith('<>')) {
      if (!value || typeof value !== 'object' || Array.isArray(value))
        throw KmsError.marshall(`'${name}' parameter should be an object`);
      return value;
    }
    if (PRIMITIVES.has(type)) {
      if (!KmdModel.convertible(type, value))
        throw KmsError.marshall(`'${name}' parameter ${this.shouldBe(type)}`);
      // What the C++ side then holds: a truncated int, a number, a string.
      if (type === 'int' || type === 'int64') return Math.trunc(Number(value));
      if (type === 'float' || type === 'double') return Number(value);
      if (type === 'boolean') return typeof value === 'boolean' ? value : value !== 0;
      return String(value);
    }
    if (this.classes.has(type)) {
      if (!KmdModel.convertible('String', value))
        throw KmsError.marshall(`'${name}' parameter should be a string`);
      const id = String(value);
      const actual = lookup(id);
      if (actual === undefined) throw KmsError.objectNotFound(id);
      if (!anyObject && !this.isA(actual, type))
        throw KmsError.marshall(`'${name}' parameter should be a ${type}`);
      return id;
    }
    const complex = this.complexTypes.get(type);
    if (complex?.format === 'ENUM') {
      if (typeof value !== 'string' || !complex.values.includes(value))
        throw KmsError.marshall(`Invalid value for '${type}'`);
      return value;
    }
    if (complex?.format === 'REGISTER') {
      if (!value || typeof value !== 'object' || Array.isArray(value))
        throw KmsError.marshall(`'${name}' parameter should be a ${type}`);
      const props = this.complexProperties(type);
      return { ...value, ...this.validateParams(props, value, lookup, { anyObject }) };
    }
    return value;
  }

  /**
   * The value a getter answers before anything was set: a kmd `defaultValue`, else the type's
   * zero value (0, false, "", [], {}), or for a REGISTER complex type an object with
   * `__module__`/`__type__` and zero-valued properties; for an ENUM, its first value.
   */
  defaultFor(type: string, defaultValue?: unknown): unknown {
    if (defaultValue !== undefined) return defaultValue;
    if (type.endsWith('[]')) return [];
    if (type.endsWith('<>')) return {};
    switch (type) {
      case 'String':
        return '';
      case 'boolean':
        return false;
      case 'int':
      case 'int64':
      case 'float':
      case 'double':
        return 0;
    }
    if (this.classes.has(type)) return null;
    const complex = this.complexTypes.get(type);
    if (complex?.format === 'ENUM') return complex.values[0] ?? null;
    if (complex?.format === 'REGISTER') {
      const out: Record<string, unknown> = { __module__: 'kurento', __type__: type };
      for (const p of this.complexProperties(type)) {
        if (!p.optional) out[p.name] = this.defaultFor(p.type, p.defaultValue);
      }
      return out;
    }
    return null;
  }
}
