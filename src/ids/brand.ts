/** A string that has been checked to be a particular kind of id. The brand
 *  exists only at compile time; it stops an address being passed where a
 *  Matrix user id is expected, and so on. */
export type Brand<T, B extends string> = T & { readonly __brand: B };
