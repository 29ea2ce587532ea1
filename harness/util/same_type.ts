/** A compile-time check that two types are the same. @module */

/**
 * `true` when A and B are the same type, else `false`: a public interface written out for its
 * docs is checked against the zod schema it mirrors with `const _: SameType<A, B> = true`.
 */
export type SameType<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2)
  ? true
  : false;
