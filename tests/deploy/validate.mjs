// SPDX-License-Identifier: Apache-2.0
// Validates Kubernetes objects (a JSON array) against the Kubernetes JSON schemas offline:
// the kubernetes-models packages carry the OpenAPI schemas compiled to validators (types,
// required fields, enums, formats), and their TypeScript declarations name every field,
// which gives the strict check the validators lack (an unknown field, such as a typo, is
// an error, as with kubectl --validate=strict).
//
//   node validate.mjs OBJECTS.json      (run from a directory whose node_modules has
//                                        kubernetes-models and @kubernetes-models/cert-manager)
import { readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const root = process.cwd();
const nm = join(root, "node_modules");

// apiVersion -> [package, group folder]
function modulePath(apiVersion, kind) {
	const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
	if (group === "cert-manager.io" || group === "acme.cert-manager.io")
		return join(nm, "@kubernetes-models/cert-manager", group, version, kind);
	return join(nm, "kubernetes-models", group || "", version, kind);
}

const fileCache = new Map();
function parseDts(path) {
	if (fileCache.has(path)) return fileCache.get(path);
	const src = readFileSync(path, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
	const imports = new Map();
	for (const m of src.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
		for (const name of m[1].split(",").map((s) => s.trim()).filter(Boolean))
			imports.set(name, m[2]);
	}
	const interfaces = new Map();
	for (const m of src.matchAll(/export interface (\w+)[^{]*\{/g)) {
		let depth = 1, i = m.index + m[0].length;
		const start = i;
		while (depth && i < src.length) {
			if (src[i] === "{") depth++;
			else if (src[i] === "}") depth--;
			i++;
		}
		interfaces.set(m[1], parseProps(src.slice(start, i - 1)));
	}
	const out = { path, imports, interfaces, main: [...interfaces.keys()][0] };
	fileCache.set(path, out);
	return out;
}

function parseProps(body) {
	const props = new Map();
	let i = 0;
	while (i < body.length) {
		const m = /"([^"]+)"\??:\s*/y;
		m.lastIndex = i;
		const hit = m.exec(body);
		if (!hit) { i++; continue; }
		let j = m.lastIndex, depth = 0;
		while (j < body.length && !(depth === 0 && body[j] === ";")) {
			if ("{<(".includes(body[j])) depth++;
			else if ("}>)".includes(body[j])) depth--;
			j++;
		}
		props.set(hit[1], body.slice(m.lastIndex, j).trim());
		i = j + 1;
	}
	return props;
}

function resolveImport(fromFile, spec) {
	let p;
	if (spec.startsWith(".")) p = resolve(dirname(fromFile), spec.replace(/\.js$/, ""));
	else p = join(nm, spec);
	return existsSync(p + ".d.ts") ? p + ".d.ts" : null;
}

// The declared shape of a type expression: {props} for an interface, {items} for an array,
// {values} for a map, null for anything not checked further (primitives, unions, aliases).
function shapeOf(file, type) {
	type = type.trim();
	let m = /^Array<([\s\S]*)>$/.exec(type);
	if (m) return { items: shapeOf(file, m[1]) };
	m = /^\{\s*\[key: string\]:\s*([\s\S]*?);?\s*\}$/.exec(type);
	if (m) return { values: shapeOf(file, m[1]) };
	if (!/^\w+$/.test(type)) return null;
	if (file.interfaces.has(type)) return { file, iface: type };
	const spec = file.imports.get(type);
	if (!spec) return null;
	const target = resolveImport(file.path, spec);
	if (!target) return null;
	const f = parseDts(target);
	return f.main ? { file: f, iface: f.main } : null;
}

function strict(value, shape, path, errs) {
	if (!shape || value === null || value === undefined) return;
	if ("items" in shape) {
		if (Array.isArray(value)) value.forEach((v, k) => strict(v, shape.items, `${path}/${k}`, errs));
		return;
	}
	if ("values" in shape) {
		if (typeof value === "object") for (const [k, v] of Object.entries(value)) strict(v, shape.values, `${path}/${k}`, errs);
		return;
	}
	if (typeof value !== "object" || Array.isArray(value)) return;
	const props = shape.file.interfaces.get(shape.iface);
	for (const [k, v] of Object.entries(value)) {
		if (!props.has(k)) {
			errs.push(`${path}/${k}: unknown field (not in ${shape.iface})`);
			continue;
		}
		strict(v, shapeOf(shape.file, props.get(k)), `${path}/${k}`, errs);
	}
}

const objects = JSON.parse(readFileSync(process.argv[2], "utf8"));
let bad = 0;
for (const o of objects) {
	const id = `${o.apiVersion} ${o.kind}/${o.metadata?.name}`;
	const base = modulePath(o.apiVersion, o.kind);
	if (!existsSync(base + ".js")) {
		console.log(`FAIL ${id}: no schema for this apiVersion/kind`);
		bad++;
		continue;
	}
	const mod = await import(pathToFileURL(base + ".js").href);
	const Model = mod[o.kind];
	const errs = [];
	try {
		new Model(o).validate();
	} catch (e) {
		errs.push(String(e.message));
	}
	const dts = parseDts(base + ".d.ts");
	strict(o, { file: dts, iface: dts.main }, "", errs);
	if (errs.length) {
		bad++;
		for (const e of errs) console.log(`FAIL ${id}: ${e}`);
	} else {
		console.log(`ok ${id}`);
	}
}
console.log(`schema: ${objects.length - bad} passed, ${bad} failed`);
process.exit(bad || !objects.length ? 1 : 0);
