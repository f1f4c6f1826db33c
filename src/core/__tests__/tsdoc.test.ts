/**
 * Every symbol the package entry points export (src/index.ts and src/graph.ts, followed through
 * their re-exports to where each is declared) has a TSDoc comment with an `@example`; a function
 * or public method whose body has a `throw` statement also says `@throws`. Reads the sources with
 * the TypeScript compiler API (no type checking), so it runs in a few seconds.
 */
import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// dist/src/core/__tests__/tsdoc.test.js: the repository root is four folders up from this file.
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const ENTRIES = ['src/index.ts', 'src/graph.ts'];

interface Item {
  name: string;
  where: string;
  /** Declarations that carry the comment (all overloads / merged declarations of one symbol). */
  decls: ts.Node[];
  /** Bodies checked for `throw`. */
  bodies: ts.Node[];
}

function where(node: ts.Node): string {
  const sf = node.getSourceFile();
  const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  return `${relative(ROOT, sf.fileName)}:${line + 1}`;
}

function tagsOf(decls: ts.Node[]): { doc: boolean; tags: Set<string> } {
  let doc = false;
  const tags = new Set<string>();
  for (const d of decls) {
    for (const c of ts.getJSDocCommentsAndTags(d)) {
      if (!ts.isJSDoc(c)) continue;
      doc = true;
      for (const t of c.tags ?? []) tags.add(t.tagName.text);
    }
  }
  return { doc, tags };
}

/** A `throw` in the body that is not caught by a `try … catch` around it in the same body. */
function throwsIn(body: ts.Node): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found) return;
    if (ts.isThrowStatement(n)) {
      found = true;
      return;
    }
    if (ts.isTryStatement(n) && n.catchClause) {
      visit(n.catchClause);
      if (n.finallyBlock) visit(n.finallyBlock);
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(body);
  return found;
}

function bodyOf(d: ts.Node): ts.Node | undefined {
  if (ts.isFunctionDeclaration(d) || ts.isMethodDeclaration(d) || ts.isConstructorDeclaration(d) || ts.isGetAccessor(d) || ts.isSetAccessor(d)) return d.body;
  if (ts.isVariableDeclaration(d) && d.initializer && (ts.isArrowFunction(d.initializer) || ts.isFunctionExpression(d.initializer))) return d.initializer.body;
  return undefined;
}

function isPublicMember(m: ts.ClassElement): boolean {
  if (m.name && ts.isPrivateIdentifier(m.name)) return false;
  const flags = ts.getCombinedModifierFlags(m as ts.Declaration);
  return (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) === 0;
}

function collect(): Item[] {
  const program = ts.createProgram(
    ENTRIES.map((e) => `${ROOT}${e}`),
    {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      noEmit: true,
      skipLibCheck: true,
      types: [],
      noLib: true,
    },
  );
  const checker = program.getTypeChecker();
  const items = new Map<string, Item>();
  for (const entry of ENTRIES) {
    const sf = program.getSourceFile(`${ROOT}${entry}`);
    assert.ok(sf, `${entry} not loaded`);
    const mod = checker.getSymbolAtLocation(sf);
    assert.ok(mod, `${entry} has no module symbol`);
    for (const exported of checker.getExportsOfModule(mod)) {
      const sym = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const decls = (sym.declarations ?? []).filter((d) => !d.getSourceFile().isDeclarationFile);
      if (decls.length === 0) continue;
      const key = `${where(decls[0])}`;
      if (items.has(key)) continue;
      items.set(key, { name: sym.name, where: key, decls, bodies: decls.map(bodyOf).filter((b) => b !== undefined) });
      for (const d of decls) {
        if (!ts.isClassDeclaration(d)) continue;
        for (const m of d.members) {
          if (!isPublicMember(m)) continue;
          if (ts.isConstructorDeclaration(m)) {
            // A constructor that throws: `@throws` on the constructor or on the class will do.
            if (m.body && throwsIn(m.body)) items.get(key)?.bodies.push(m.body);
            continue;
          }
          if (!ts.isMethodDeclaration(m) && !ts.isGetAccessor(m)) continue;
          const name = `${sym.name}.${m.name.getText()}`;
          const mk = where(m);
          const prev = [...items.values()].find((i) => i.name === name);
          if (prev) {
            prev.decls.push(m);
            if (m.body) prev.bodies.push(m.body);
          } else items.set(mk, { name, where: mk, decls: [m], bodies: m.body ? [m.body] : [] });
        }
      }
    }
  }
  return [...items.values()];
}

test('every public symbol of simplenet and simplenet/graph has TSDoc with @example, and @throws where it throws', () => {
  const items = collect();
  assert.ok(items.length > 50, `only ${items.length} exported symbols found: the entry points did not load`);
  const missing: string[] = [];
  for (const it of items) {
    const { doc, tags } = tagsOf(it.decls);
    const needs: string[] = [];
    if (!doc) needs.push('a TSDoc comment');
    if (!tags.has('example')) needs.push('@example');
    if (!tags.has('throws') && it.bodies.some(throwsIn)) {
      // A constructor's throw may be documented on the class.
      const cls = it.decls.find(ts.isClassDeclaration);
      if (!cls || !tagsOf([...cls.members.filter(ts.isConstructorDeclaration)]).tags.has('throws')) needs.push('@throws');
    }
    if (needs.length) missing.push(`  ${it.where}  ${it.name}: needs ${needs.join(', ')}`);
  }
  assert.equal(missing.length, 0, `${missing.length} of ${items.length} public symbols lack documentation:\n${missing.join('\n')}`);
});
