// Reference parses of the lesson corpus with the JavaScript MDX toolchain.
//
// Run by hand when the corpus changes (CI never runs it; its output is committed):
//   cd tests/content/mdx_reference && npm ci && node reference.mjs
//
// Each lesson in ../corpus/courses/*/lessons/ is compiled with @mdx-js/mdx (format by
// extension, as its `format: 'detect'` does: .mdx is MDX, .md is Markdown) plus
// remark-frontmatter, remark-gfm, remark-math and remark-directive, after the three text
// rewrites Docusaurus' mdx-loader makes before MDX sees a file (```` ```mdx-code-block ````
// fences unwrapped, `## Title {#id}` → `## Title \{#id}`, `:::tip Title` → `:::tip[Title]`). The mdast that MDX builds (after its
// own "unravel" step) is summarised into the outline that tests/content/test_corpus.py
// compares with the loader's blocks, and written to ../corpus/reference/<course>/<file>.json.

import {readdirSync, readFileSync, mkdirSync, writeFileSync} from 'node:fs'
import {join, extname, basename} from 'node:path'
import {compile} from '@mdx-js/mdx'
import {slug as githubSlug} from 'github-slugger'
import remarkDirective from 'remark-directive'
import remarkFrontmatter from 'remark-frontmatter'
import remarkGfm from 'remark-gfm'
import remarkMath from 'remark-math'

const corpus = new URL('../corpus/', import.meta.url).pathname
const COMMENT = /^\s*\/\*[\s\S]*\*\/\s*$/
const REACT_HEADING_ID = /^\s*\/\*\s*(\S+?)\s*\*\/\s*$/
const DOCUSAURUS_HEADING_ID = /\s*\{#([^\s{}]+)\}\s*$/

// -- Docusaurus' preprocessing (packages/docusaurus-mdx-loader/src/preprocessor.ts) -----
function preprocess(text) {
  let fence = null
  let unwrapping = false
  return text
    .split('\n')
    .flatMap((line) => {
      const marker = line.match(/^\s*(`{3,}|~{3,})\s*(\S*)/)
      if (marker) {
        if (fence === null) {
          fence = marker[1]
          // unwrapMdxCodeBlocks: a ```mdx-code-block fence holds MDX to be read as such
          if (marker[2] === 'mdx-code-block') {
            unwrapping = true
            return []
          }
        } else if (marker[1][0] === fence[0] && marker[1].length >= fence.length) {
          fence = null
          if (unwrapping) {
            unwrapping = false
            return []
          }
        }
        return [line]
      }
      if (unwrapping) return [line]
      if (fence !== null) return [line]
      const heading = line.match(/^(#{1,6}\s.*?)\s*\{#([^\s{}]+)\}\s*$/)
      if (heading) return [`${heading[1]} \\{#${heading[2]}}`]
      const admonition = line.match(/^(\s*:{3,})([A-Za-z][\w-]*) +([^\[{\s].*?)\s*$/)
      if (admonition) return [`${admonition[1]}${admonition[2]}[${admonition[3]}]`]
      return [line]
    })
    .join('\n')
}

// -- mdast → the outline both sides are compared by --------------------------------------
function text(node) {
  // Plain text without markup; expressions are left out.
  if (node.type === 'mdxTextExpression' || node.type === 'mdxFlowExpression') return ''
  if (node.type === 'image') return node.alt || ''
  if ('value' in node && typeof node.value === 'string') return node.value
  return (node.children || []).map(text).join('')
}

function isBlank(node) {
  return node.type === 'text' && node.value.trim() === ''
}

class Summary {
  constructor() {
    this.occurrences = new Map()
    this.imports = []
  }

  unique(value) {
    let result = value
    const original = value
    while (this.occurrences.has(result)) {
      this.occurrences.set(original, this.occurrences.get(original) + 1)
      result = `${original}-${this.occurrences.get(original)}`
    }
    this.occurrences.set(result, 0)
    return result
  }

  flow(nodes) {
    return nodes.flatMap((node) => this.node(node))
  }

  heading(node) {
    const children = [...node.children]
    let anchor = null
    const last = children[children.length - 1]
    if (last && last.type === 'mdxTextExpression' && REACT_HEADING_ID.test(last.value)) {
      anchor = last.value.match(REACT_HEADING_ID)[1]
      children.pop()
    }
    let value = children.map(text).join('')
    const explicit = value.match(DOCUSAURUS_HEADING_ID)
    if (explicit) {
      anchor = explicit[1]
      value = value.slice(0, explicit.index)
    }
    value = value.trim()
    const id = this.unique(anchor || githubSlug(value) || 'heading')
    return {kind: 'heading', level: node.depth, text: value, id}
  }

  phrasing(children) {
    // Phrasing content of an element MDX unravelled: components when it holds only JSX
    // and expressions, otherwise one paragraph.
    const solid = children.filter((child) => !isBlank(child))
    if (
      solid.length &&
      solid.every((c) => c.type === 'mdxJsxTextElement' || c.type === 'mdxTextExpression')
    ) {
      return solid.flatMap((child) =>
        child.type === 'mdxTextExpression'
          ? COMMENT.test(child.value)
            ? []
            : [{kind: 'expression', expression: child.value}]
          : [this.component(child)]
      )
    }
    return solid.length ? [{kind: 'paragraph'}] : []
  }

  component(node) {
    const props = {}
    const spread = []
    for (const attribute of node.attributes) {
      if (attribute.type === 'mdxJsxExpressionAttribute') {
        spread.push(attribute.value.trim())
      } else if (attribute.value === null || attribute.value === undefined) {
        props[attribute.name] = true
      } else if (typeof attribute.value === 'string') {
        props[attribute.name] = attribute.value
      } else {
        props[attribute.name] = {expression: attribute.value.value}
      }
    }
    const phrasing = node.type === 'mdxJsxTextElement' || node.children.some(isPhrasing)
    const children = phrasing ? this.phrasing(node.children) : this.flow(node.children)
    return {kind: 'component', name: node.name || '', props, spread, children}
  }

  node(node) {
    switch (node.type) {
      case 'yaml':
      case 'toml':
      case 'definition':
        return []
      case 'heading':
        return [this.heading(node)]
      case 'paragraph': {
        const solid = node.children.filter((child) => !isBlank(child) && child.type !== 'break')
        if (solid.length === 1 && solid[0].type === 'image') {
          const image = solid[0]
          return [{kind: 'image', src: image.url, alt: image.alt || '', title: image.title ?? null}]
        }
        const visible = solid.filter(
          (child) => !(child.type === 'mdxTextExpression' && COMMENT.test(child.value))
        )
        return visible.length ? [{kind: 'paragraph'}] : []
      }
      case 'code':
        return [{kind: 'code', language: node.lang ?? null, meta: node.meta ?? null, text: node.value}]
      case 'list':
        return [
          {
            kind: 'list',
            ordered: node.ordered,
            start: node.ordered ? (node.start ?? 1) : null,
            items: node.children.map((item) => ({
              checked: item.checked ?? null,
              children: this.flow(item.children)
            }))
          }
        ]
      case 'table':
        return [
          {
            kind: 'table',
            align: node.align.map((a) => a ?? null),
            columns: node.children[0].children.length,
            rows: node.children.length - 1
          }
        ]
      case 'blockquote':
        return [{kind: 'blockquote', children: this.flow(node.children)}]
      case 'containerDirective': {
        const [first, ...rest] = node.children
        const labelled = first && first.data && first.data.directiveLabel
        return [
          {
            kind: 'admonition',
            type: node.name,
            title: labelled ? text(first).trim() || null : null,
            children: this.flow(labelled ? rest : node.children)
          }
        ]
      }
      case 'math':
        return [{kind: 'math', tex: node.value}]
      case 'mdxJsxFlowElement':
        return [this.component(node)]
      case 'mdxFlowExpression':
        return COMMENT.test(node.value) ? [] : [{kind: 'expression', expression: node.value}]
      case 'mdxjsEsm':
        this.imports.push(node.value)
        return []
      case 'html':
        return [{kind: 'html', html: node.value}]
      case 'thematicBreak':
        return [{kind: 'thematic_break'}]
      case 'footnoteDefinition':
        return [{kind: 'footnote', label: node.label, children: this.flow(node.children)}]
      default:
        return [{kind: `unexpected:${node.type}`}]
    }
  }
}

function isPhrasing(node) {
  return ['text', 'emphasis', 'strong', 'inlineCode', 'link', 'mdxJsxTextElement',
    'mdxTextExpression', 'inlineMath', 'break', 'delete', 'image'].includes(node.type)
}

function capture(summary) {
  return () => (tree) => {
    summary.blocks = summary.flow(tree.children)
  }
}

async function reference(path) {
  const source = readFileSync(path, 'utf8').replace(/^\uFEFF/, '')
  const format = extname(path) === '.mdx' ? 'mdx' : 'md'
  const summary = new Summary()
  try {
    await compile(
      {value: preprocess(source), path},
      {
        format,
        remarkPlugins: [
          remarkFrontmatter,
          remarkGfm,
          remarkMath,
          remarkDirective,
          capture(summary)
        ]
      }
    )
  } catch (error) {
    return {format, error: String(error.reason || error.message)}
  }
  return {format, imports: summary.imports, blocks: summary.blocks}
}

const courses = join(corpus, 'courses')
let written = 0
for (const course of readdirSync(courses).sort()) {
  const lessons = join(courses, course, 'lessons')
  const out = join(corpus, 'reference', course)
  mkdirSync(out, {recursive: true})
  for (const name of readdirSync(lessons).sort()) {
    if (!/\.mdx?$/.test(name)) continue
    const result = await reference(join(lessons, name))
    writeFileSync(join(out, `${basename(name)}.json`), JSON.stringify(result, null, 2) + '\n')
    if (result.error) console.error(`${course}/${name}: ${result.error}`)
    written += 1
  }
}
console.log(`${written} reference parse(s) written`)
