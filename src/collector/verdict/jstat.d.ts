// The part of jStat the verdict uses (the package ships no types).
declare module 'jstat' {
  const jStat: {
    normal: { inv(p: number, mean: number, sd: number): number };
  };
  export default jStat;
}
