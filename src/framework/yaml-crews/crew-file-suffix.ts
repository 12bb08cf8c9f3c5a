/** The suffix of a YAML crew's file: `commentator.crew.yaml`. Apart, so finding crew files loads nothing of YAML crews. */
export const CREW_FILE_SUFFIX = '.crew.yaml';
